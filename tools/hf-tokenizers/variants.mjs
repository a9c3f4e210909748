// Synthetic tokenizer.json files for tools/hf-parity: the real Llama-2 and Llama-3 models
// (vocabulary and merges) with the normalizers, pre-tokenizers, decoders and added-token
// options the four real files do not use, so that each is compared with tokenizers@0.23.2.
//   node variants.mjs NODE_MODULES/@lenml OUT_DIR   writes OUT_DIR/NAME.json
import { readFileSync, writeFileSync } from 'node:fs';

const [mods, out] = process.argv.slice(2);
const load = (n) => JSON.parse(readFileSync(`${mods}/tokenizer-${n}/models/tokenizer.json`, 'utf8'));
const l2 = load('llama2'), l3 = load('llama3');
const added = (base, extra) => [...base.added_tokens.slice(0, 3), ...extra];
const tok = (id, content, o = {}) => ({ id, content, single_word: false, lstrip: false,
    rstrip: false, normalized: false, special: false, ...o });
const write = (name, base, over) => writeFileSync(`${out}/${name}.json`, JSON.stringify({ ...base, ...over }));
const ms = (o) => ({ type: 'Metaspace', replacement: '\u2581', ...o });

// SentencePiece-style through Metaspace (prepend first, split), NFKC, Metaspace decoder
write('v-metaspace', l2, {
    normalizer: { type: 'NFKC' },
    pre_tokenizer: ms({ prepend_scheme: 'first', split: true }),
    decoder: { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, { type: 'Fuse' },
        ms({ prepend_scheme: 'first', split: true })] },
});
// Metaspace always, no split; Strip and Lowercase normalizers; added tokens with lstrip/rstrip
write('v-metaspace-always', l2, {
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Strip', strip_left: true, strip_right: true },
        { type: 'Lowercase' }] },
    pre_tokenizer: ms({ prepend_scheme: 'always', split: false }),
    decoder: ms({ prepend_scheme: 'always', split: false }),
    added_tokens: added(l2, [tok(32000, '<x>', { lstrip: true }), tok(32001, '[Y]', { rstrip: true, special: true }),
        tok(32002, 'qqx', { single_word: true }), tok(32003, 'ABQZ', { normalized: true })]),
});
// Digits, Punctuation, WhitespaceSplit, NFD, Replace by regex, Strip decoder
write('v-pieces', l2, {
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' },
        { type: 'Replace', pattern: { Regex: '[0-9]{4,}' }, content: '#' },
        { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true },
        { type: 'Punctuation', behavior: 'Isolated' }, { type: 'WhitespaceSplit' }] },
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '\u2581' }, content: ' ' },
        { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 2, stop: 0 }] },
});
// Whitespace pre-tokenizer, Digits contiguous, then ByteLevel with its own regex and prefix space
write('v-whitespace-bytelevel', l3, {
    normalizer: { type: 'NFKD' },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Whitespace' },
        { type: 'Digits', individual_digits: false },
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true }] },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
});
// Split behaviours and invert, a String pattern and an ICU regex, NFC + Prepend
const split = (pattern, behavior, invert = false) => ({ type: 'Split', pattern, behavior, invert });
const bl = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
write('v-split-prev', l3, {
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Prepend', prepend: '>' }] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [split({ String: ' ' }, 'MergedWithPrevious'),
        split({ Regex: '\\p{Lu}' }, 'MergedWithNext'), bl] },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
});
write('v-split-removed', l3, {
    pre_tokenizer: { type: 'Sequence', pretokenizers: [split({ Regex: '[aeiou]+' }, 'Contiguous'),
        split({ String: ',' }, 'Removed'), split({ Regex: '\\d' }, 'Removed', true), bl] },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
});
// GPT-2's pattern through ByteLevel alone (use_regex), single_word added tokens
write('v-gpt2', l3, {
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    added_tokens: [...l3.added_tokens, tok(128256, 'xyzzy', { single_word: true })],
});
