// The one C++ file of lingraft: lg_spm.h's extern "C" functions over libsentencepiece.
// Every entry point catches exceptions so that none crosses into C.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cerrno>
#include <cstdlib>
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
        for (size_t i = 0; i < proto.n; i++)
            m->types[i] = proto.pieces[i].type;
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

/* ---- Training ---------------------------------------------------------------- */

extern "C" void lg_spm_train_defaults(lg_spm_train_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->model_type = "unigram";
    opt->vocab_size = 8000;
    opt->character_coverage = 0.9995;
    opt->normalization_rule = "nmt_nfkc";
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
