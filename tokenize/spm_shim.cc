// The one C++ file of lingraft: lg_spm.h's extern "C" functions over libsentencepiece.
// Every entry point catches exceptions so that none crosses into C.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cerrno>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

extern "C" {
#include "lg_spm.h"
#include "lg_text.h"
}
#include "spm_proto.h"

namespace sentencepiece {
namespace logging {
void SetMinLogLevel(int v);  // exported by libsentencepiece, not declared in Debian's headers
}
}  // namespace sentencepiece

struct lg_spm {
    sentencepiece::SentencePieceProcessor sp;
    std::string serialized;
    std::vector<int> types;   // from our own reading of the proto: NORMAL vs USER_DEFINED too
    std::string name;
    lg_spm_info info;         // normaliser and trainer fields, from our reading too
};

static const char *status_text(const sentencepiece::util::Status &st)
{
    const char *m = st.error_message();
    return m && *m ? m : "unknown SentencePiece error";
}

extern "C" lg_spm *lg_spm_load_serialized(const void *data, size_t len, const char *name,
                                          lg_error *err)
{
    try {
        lg_spm_proto proto;
        if (lg_spm_proto_parse(static_cast<const uint8_t *>(data), len, name, &proto, err) < 0)
            return nullptr;
        // owned until returned: SentencePiece throws on some models (darts_clone on an empty
        // piece), and the catch below must not leak it
        std::unique_ptr<lg_spm> m(new lg_spm);
        m->name = name;
        m->serialized.assign(static_cast<const char *>(data), len);
        m->types.resize(proto.n);
        memset(&m->info, 0, sizeof m->info);
        for (size_t i = 0; i < proto.n; i++) {
            m->types[i] = proto.pieces[i].type;
            m->info.byte_pieces += proto.pieces[i].type == LG_SPM_BYTE;
            m->info.user_defined_pieces += proto.pieces[i].type == LG_SPM_USER_DEFINED;
        }
        const lg_spm_proto_normalizer &ns = proto.normalizer;
        memcpy(m->info.normalizer, ns.name, sizeof m->info.normalizer);
        m->info.charsmap_bytes = ns.charsmap_len;
        m->info.add_dummy_prefix = ns.add_dummy_prefix;
        m->info.remove_extra_whitespaces = ns.remove_extra_whitespaces;
        m->info.escape_whitespaces = ns.escape_whitespaces;
        m->info.model_type = proto.model_type;
        m->info.treat_whitespace_as_suffix = proto.treat_whitespace_as_suffix;
        lg_spm_proto_free(&proto);
        auto st = m->sp.LoadFromSerializedProto(m->serialized);
        if (!st.ok()) {
            lg_fail(err, "%s: not a usable SentencePiece model: %s", name, status_text(st));
            return nullptr;
        }
        if (static_cast<size_t>(m->sp.GetPieceSize()) != m->types.size()) {
            lg_fail(err, "%s: SentencePiece sees %d pieces, the protobuf %zu", name,
                    m->sp.GetPieceSize(), m->types.size());
            return nullptr;
        }
        return m.release();
    } catch (const std::exception &e) {
        lg_fail(err, "%s: %s", name, e.what());
        return nullptr;
    }
}

extern "C" lg_spm *lg_spm_load(const char *path, lg_error *err)
{
    try {
        std::ifstream in(path, std::ios::binary);
        if (!in)
            return lg_fail(err, "%s: cannot open: %s", path, strerror(errno)), nullptr;
        std::ostringstream buf;
        buf << in.rdbuf();
        if (in.bad())
            return lg_fail(err, "%s: read error", path), nullptr;
        std::string bytes = buf.str();
        if (bytes.empty())
            return lg_fail(err, "%s: empty file, not a SentencePiece model", path), nullptr;
        return lg_spm_load_serialized(bytes.data(), bytes.size(), path, err);
    } catch (const std::exception &e) {
        lg_fail(err, "%s: %s", path, e.what());
        return nullptr;
    }
}

extern "C" void lg_spm_free(lg_spm *m) { delete m; }

extern "C" int lg_spm_vocab_size(const lg_spm *m) { return static_cast<int>(m->types.size()); }

static bool in_range(const lg_spm *m, int id)
{
    return id >= 0 && static_cast<size_t>(id) < m->types.size();
}

extern "C" const char *lg_spm_id_to_piece(const lg_spm *m, int id)
{
    return in_range(m, id) ? m->sp.IdToPiece(id).c_str() : "";
}

extern "C" int lg_spm_piece_to_id(const lg_spm *m, const char *piece)
{
    try {
        int id = m->sp.PieceToId(piece);
        return in_range(m, id) && m->sp.IdToPiece(id) == piece ? id : -1;
    } catch (...) {
        return -1;
    }
}

extern "C" float lg_spm_score(const lg_spm *m, int id)
{
    return in_range(m, id) ? m->sp.GetScore(id) : 0.0f;
}

extern "C" enum lg_spm_type lg_spm_type(const lg_spm *m, int id)
{
    return in_range(m, id) ? static_cast<enum lg_spm_type>(m->types[id]) : LG_SPM_UNUSED;
}

static int special_id(const lg_spm *m, int id) { return in_range(m, id) ? id : -1; }
extern "C" int lg_spm_unk_id(const lg_spm *m) { return special_id(m, m->sp.unk_id()); }
extern "C" int lg_spm_bos_id(const lg_spm *m) { return special_id(m, m->sp.bos_id()); }
extern "C" int lg_spm_eos_id(const lg_spm *m) { return special_id(m, m->sp.eos_id()); }
extern "C" int lg_spm_pad_id(const lg_spm *m) { return special_id(m, m->sp.pad_id()); }

// The one rule for text everywhere: invalid UTF-8 is an error (the caller adds the file and
// line), never silently replaced; a command that offers replacement cleans the text first.
static int check_utf8(const char *text, size_t len, lg_error *err)
{
    size_t bad;
    if (!lg_utf8_valid(text, len, &bad))
        return lg_fail(err, "invalid UTF-8 at byte %zu", bad);
    return 0;
}

extern "C" int lg_spm_encode(const lg_spm *m, const char *text, size_t len, lg_token_ids *out,
                             lg_error *err)
{
    if (check_utf8(text, len, err) < 0)
        return -1;
    try {
        std::vector<int> ids;
        auto st = m->sp.Encode(absl::string_view(text, len), &ids);
        if (!st.ok())
            return lg_fail(err, "%s: encode: %s", m->name.c_str(), status_text(st));
        if (ids.size() > out->cap) {
            size_t cap = ids.size() + ids.size() / 2 + 16;
            int *grown = static_cast<int *>(realloc(out->ids, cap * sizeof(int)));
            if (!grown)
                return lg_fail(err, "%s: out of memory encoding", m->name.c_str());
            out->ids = grown;
            out->cap = cap;
        }
        if (!ids.empty())
            memcpy(out->ids, ids.data(), ids.size() * sizeof(int));
        out->n = ids.size();
        return 0;
    } catch (const std::exception &e) {
        return lg_fail(err, "%s: encode: %s", m->name.c_str(), e.what());
    }
}

extern "C" int lg_spm_encode_pieces(const lg_spm *m, const char *text, size_t len,
                                    lg_spm_pieces *out, lg_error *err)
{
    if (check_utf8(text, len, err) < 0)
        return -1;
    try {
        std::vector<std::string> pieces;
        auto st = m->sp.Encode(absl::string_view(text, len), &pieces);
        if (!st.ok())
            return lg_fail(err, "%s: encode: %s", m->name.c_str(), status_text(st));
        size_t need = 0;
        for (const auto &p : pieces)
            need += p.size() + 1;
        if (need > out->cap) {
            size_t cap = need + need / 2 + 64;
            char *grown = static_cast<char *>(realloc(out->data, cap));
            if (!grown)
                return lg_fail(err, "%s: out of memory encoding", m->name.c_str());
            out->data = grown;
            out->cap = cap;
        }
        size_t at = 0;
        for (const auto &p : pieces) {
            memcpy(out->data + at, p.c_str(), p.size() + 1);
            at += p.size() + 1;
        }
        out->len = at;
        out->n = pieces.size();
        return 0;
    } catch (const std::exception &e) {
        return lg_fail(err, "%s: encode: %s", m->name.c_str(), e.what());
    }
}

static char *copy_string(const std::string &s, const lg_spm *m, lg_error *err)
{
    char *c = static_cast<char *>(malloc(s.size() + 1));
    if (!c)
        return lg_fail(err, "%s: out of memory decoding", m->name.c_str()), nullptr;
    memcpy(c, s.c_str(), s.size() + 1);
    return c;
}

extern "C" char *lg_spm_decode(const lg_spm *m, const int *ids, size_t n, lg_error *err)
{
    try {
        for (size_t i = 0; i < n; i++)
            if (!in_range(m, ids[i]))
                return lg_fail(err, "%s: id %d is outside the vocabulary (0..%zu)",
                               m->name.c_str(), ids[i], m->types.size() - 1), nullptr;
        std::vector<int> v(ids, ids + n);
        std::string text;
        auto st = m->sp.Decode(v, &text);
        if (!st.ok())
            return lg_fail(err, "%s: decode: %s", m->name.c_str(), status_text(st)), nullptr;
        return copy_string(text, m, err);
    } catch (const std::exception &e) {
        return lg_fail(err, "%s: decode: %s", m->name.c_str(), e.what()), nullptr;
    }
}

extern "C" char *lg_spm_decode_pieces(const lg_spm *m, const char *const *pieces, size_t n,
                                      lg_error *err)
{
    try {
        std::vector<std::string> v(pieces, pieces + n);
        std::string text;
        auto st = m->sp.Decode(v, &text);
        if (!st.ok())
            return lg_fail(err, "%s: decode: %s", m->name.c_str(), status_text(st)), nullptr;
        return copy_string(text, m, err);
    } catch (const std::exception &e) {
        return lg_fail(err, "%s: decode: %s", m->name.c_str(), e.what()), nullptr;
    }
}

extern "C" void lg_spm_pieces_free(lg_spm_pieces *pieces)
{
    free(pieces->data);
    pieces->data = nullptr;
    pieces->len = pieces->cap = pieces->n = 0;
}

extern "C" int lg_spm_serialized(const lg_spm *m, uint8_t **data, size_t *len, lg_error *err)
{
    *data = static_cast<uint8_t *>(malloc(m->serialized.size()));
    if (!*data)
        return lg_fail(err, "%s: out of memory", m->name.c_str());
    memcpy(*data, m->serialized.data(), m->serialized.size());
    *len = m->serialized.size();
    return 0;
}

/* ---- What the model does with text ------------------------------------------- */

extern "C" void lg_spm_get_info(const lg_spm *m, lg_spm_info *out) { *out = m->info; }

extern "C" const char *lg_spm_model_type_name(int model_type)
{
    static const char *const names[] = {"unigram", "bpe", "word", "char"};
    return model_type >= 1 && model_type <= 4 ? names[model_type - 1] : "unknown";
}

extern "C" void lg_spm_describe_normalizer(const lg_spm *m, char *buf, size_t n)
{
    const lg_spm_info &i = m->info;
    const char *name = i.normalizer[0] ? i.normalizer : "unnamed";
    std::string s = std::string("'") + name + "'";
    if (i.charsmap_bytes == 0)
        s += " (no character rewritten";
    else if (!strncmp(name, "nmt_nfkc", 8) || !strncmp(name, "nfkc", 4))
        s += " (NFKC inside the model";
    else
        s += " (a character map inside the model";
    s += i.remove_extra_whitespaces ? "; leading, trailing and repeated spaces removed)"
                                    : "; spaces kept as given)";
    snprintf(buf, n, "%s", s.c_str());
}

static size_t put_utf8(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

extern "C" int lg_spm_count_normalized(const lg_spm *m, long *count, char *examples,
                                       size_t examples_len, int n_examples, lg_error *err)
{
    *count = 0;
    if (examples_len)
        examples[0] = 0;
    if (m->info.charsmap_bytes == 0 && !m->info.remove_extra_whitespaces)
        return 0; /* nothing to rewrite: the model is its own identity copy */
    try {
        uint8_t *plain = nullptr;
        size_t plain_len = 0;
        if (lg_spm_proto_set_identity(reinterpret_cast<const uint8_t *>(m->serialized.data()),
                                      m->serialized.size(), m->name.c_str(),
                                      m->info.add_dummy_prefix, m->info.escape_whitespaces,
                                      &plain, &plain_len, err) < 0)
            return -1;
        sentencepiece::SentencePieceProcessor identity;
        auto st = identity.LoadFromSerializedProto(
            std::string(reinterpret_cast<const char *>(plain), plain_len));
        free(plain);
        if (!st.ok())
            return lg_fail(err, "%s: without its normaliser: %s", m->name.c_str(),
                           status_text(st));
        // the characters a reader recognises first, then the rest in code point order
        static const uint32_t showcase[] = {0x2026, 0xfb01, 0x00b2, 0x00bd, 0xff21, 0x3392,
                                            0xfe8e, 0x2460, 0x3000};
        std::vector<uint32_t> shown;
        std::vector<int> a, b;
        auto changed = [&](uint32_t cp) {
            char u[4];
            absl::string_view text(u, put_utf8(u, cp));
            a.clear();
            b.clear();
            return !m->sp.Encode(text, &a).ok() || !identity.Encode(text, &b).ok() || a != b;
        };
        for (uint32_t cp : showcase)
            if ((int)shown.size() < n_examples && changed(cp))
                shown.push_back(cp);
        static const uint32_t planes[] = {0, 1, 2, 3, 14};
        for (uint32_t plane : planes)
            for (uint32_t cp = plane << 16; cp < (plane + 1) << 16; cp++) {
                if (cp >= 0xd800 && cp <= 0xdfff)
                    continue;
                if (!changed(cp))
                    continue;
                ++*count;
                bool visible = cp > 0x20 && !(cp >= 0x7f && cp <= 0xa0);
                if (visible && (int)shown.size() < n_examples &&
                    std::find(shown.begin(), shown.end(), cp) == shown.end())
                    shown.push_back(cp);
            }
        std::string list;
        for (uint32_t cp : shown) {
            char u[4];
            if (!list.empty())
                list += ' ';
            list.append(u, put_utf8(u, cp));
        }
        if (examples_len && list.size() < examples_len)
            memcpy(examples, list.c_str(), list.size() + 1);
        return 0;
    } catch (const std::exception &e) {
        return lg_fail(err, "%s: %s", m->name.c_str(), e.what());
    }
}

extern "C" int lg_spm_llama_cpp_check(const lg_spm *m, char *why, size_t why_len, lg_error *err)
{
    const lg_spm_info &i = m->info;
    std::string r;
    auto add = [&r](const std::string &reason) { r += (r.empty() ? "" : "; ") + reason; };
    if (i.model_type != 2)
        add(std::string("a ") + lg_spm_model_type_name(i.model_type) +
            " model (llama.cpp merges pieces by score as SentencePiece's BPE does; it runs no "
            "unigram search)");
    if (i.charsmap_bytes || i.remove_extra_whitespaces) {
        long n = 0;
        char examples[64];
        if (lg_spm_count_normalized(m, &n, examples, sizeof examples, 5, err) < 0)
            return -1;
        char desc[160], line[512];
        lg_spm_describe_normalizer(m, desc, sizeof desc);
        snprintf(line, sizeof line,
                 "its normaliser %s rewrites or drops %ld characters before encoding%s%s%s, "
                 "llama.cpp none",
                 desc, n, examples[0] ? " (" : "", examples, examples[0] ? " ...)" : "");
        add(line);
    }
    if (!i.escape_whitespaces)
        add("spaces are not escaped to \u2581 (llama.cpp always escapes them)");
    if (i.treat_whitespace_as_suffix)
        add("\u2581 is a suffix of pieces (llama.cpp prepends it)");
    if (i.user_defined_pieces) {
        std::string some;
        int shown = 0;
        for (size_t id = 0; id < m->types.size() && shown < 3; id++)
            if (m->types[id] == LG_SPM_USER_DEFINED) {
                some += (shown++ ? " " : "") + m->sp.IdToPiece(static_cast<int>(id));
            }
        add(std::to_string(i.user_defined_pieces) + " user-defined pieces (" + some +
            (i.user_defined_pieces > shown ? " ..." : "") +
            "): llama.cpp cuts the text at them and puts ▁ before the text that follows one, "
            "SentencePiece does not");
    }
    if (i.byte_pieces < 256)
        add("no byte fallback (" + std::to_string(i.byte_pieces) +
            " byte pieces): a character outside the pieces is <unk> to SentencePiece, llama.cpp "
            "looks for byte pieces");
    snprintf(why, why_len, "%s", r.c_str());
    return r.empty() ? 1 : 0;
}

/* ---- Training ---------------------------------------------------------------- */

extern "C" void lg_spm_train_defaults(lg_spm_train_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->model_type = "unigram";
    opt->vocab_size = 8000;
    opt->character_coverage = 0.9995;
    opt->normalization_rule = "identity";
    opt->keep_extra_whitespaces = 1;
    opt->shuffle_input_sentence = 1;
    opt->max_sentence_length = 4192;
    opt->num_threads = 1;
}

namespace {
// Pulls lines from the C callback; the trainer stores only its sample of them.
class CallbackIterator : public sentencepiece::SentenceIterator {
  public:
    CallbackIterator(lg_spm_next_line next, void *ctx) : next_(next), ctx_(ctx) { Next(); }
    bool done() const override { return done_; }
    void Next() override
    {
        const char *line = nullptr;
        size_t len = 0;
        int rc = next_(ctx_, &line, &len, &err_);
        if (rc > 0) {
            value_.assign(line, len);
            count_++;
        } else {
            done_ = true;
            failed_ = rc < 0;
        }
    }
    const std::string &value() const override { return value_; }
    sentencepiece::util::Status status() const override
    {
        if (failed_)
            return sentencepiece::util::Status(sentencepiece::util::StatusCode::kInternal,
                                               err_.msg);
        return sentencepiece::util::Status();
    }
    bool failed() const { return failed_; }
    const lg_error &error() const { return err_; }
    int64_t count() const { return count_; }

  private:
    lg_spm_next_line next_;
    void *ctx_;
    std::string value_;
    bool done_ = false, failed_ = false;
    int64_t count_ = 0;
    lg_error err_{};
};
}  // namespace

extern "C" int lg_spm_train(const lg_spm_train_options *opt, lg_spm_next_line next, void *ctx,
                            const char *corpus_name, uint8_t **model, size_t *model_len,
                            lg_error *err)
{
    try {
        std::unordered_map<std::string, std::string> kw;
        kw["model_type"] = opt->model_type ? opt->model_type : "unigram";
        kw["vocab_size"] = std::to_string(opt->vocab_size);
        std::ostringstream cov;
        cov.precision(17);
        cov << opt->character_coverage;
        kw["character_coverage"] = cov.str();
        kw["byte_fallback"] = opt->byte_fallback ? "true" : "false";
        kw["split_digits"] = opt->split_digits ? "true" : "false";
        if (opt->user_defined_symbols && *opt->user_defined_symbols)
            kw["user_defined_symbols"] = opt->user_defined_symbols;
        kw["normalization_rule_name"] = opt->normalization_rule ? opt->normalization_rule
                                                                : "nmt_nfkc";
        if (opt->keep_extra_whitespaces)
            kw["remove_extra_whitespaces"] = "false";
        kw["input_sentence_size"] = std::to_string(opt->input_sentence_size);
        kw["shuffle_input_sentence"] = opt->shuffle_input_sentence ? "true" : "false";
        if (opt->max_sentence_length > 0)
            kw["max_sentence_length"] = std::to_string(opt->max_sentence_length);
        kw["num_threads"] = std::to_string(opt->num_threads > 0 ? opt->num_threads : 1);
        // SentencePiece keeps its seed process-wide; it only affects sampling here.
        if (opt->seed)
            sentencepiece::SetRandomGeneratorSeed(static_cast<unsigned int>(opt->seed));
        // A tokenizer for an LM: ids 0..2 are unk, bos, eos as in Llama's tokenizer.
        kw["unk_id"] = "0";
        kw["bos_id"] = "1";
        kw["eos_id"] = "2";
        kw["pad_id"] = "-1";
        // SentencePiece's logging is process-wide; quiet unless asked.
        sentencepiece::logging::SetMinLogLevel(opt->verbose ? 0 : 2);

        CallbackIterator it(next, ctx);
        std::string serialized;
        auto st = sentencepiece::SentencePieceTrainer::Train(kw, &it, &serialized);
        if (it.failed()) {
            *err = it.error();
            return -1;
        }
        if (!st.ok()) {
            const char *msg = status_text(st);
            if (it.count() == 0)
                return lg_fail(err, "%s: empty corpus (no lines to train on)", corpus_name);
            const char *limit = strstr(msg, "value <= ");
            if (strstr(msg, "Vocabulary size too high") && limit)
                return lg_fail(err,
                               "%s: vocabulary size %d is larger than this corpus supports "
                               "(at most %ld); use a smaller vocabulary or more text",
                               corpus_name, opt->vocab_size, strtol(limit + 9, nullptr, 10));
            if (strstr(msg, "smaller than required"))
                return lg_fail(err,
                               "%s: vocabulary size %d is smaller than the characters this "
                               "corpus needs (%s)",
                               corpus_name, opt->vocab_size, msg);
            return lg_fail(err, "%s: training failed: %s", corpus_name, msg);
        }
        *model = static_cast<uint8_t *>(malloc(serialized.size()));
        if (!*model)
            return lg_fail(err, "%s: out of memory", corpus_name);
        memcpy(*model, serialized.data(), serialized.size());
        *model_len = serialized.size();
        return 0;
    } catch (const std::exception &e) {
        return lg_fail(err, "%s: training failed: %s", corpus_name, e.what());
    }
}
