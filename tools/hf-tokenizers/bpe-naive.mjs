// A naive byte-level BPE trainer, the reference for lingraft's `tokenize train --format
// hf-bpe` (tests/hf_bpe_train.sh): the words come from Hugging Face's own pre-tokenizer of
// the trained tokenizer.json (npm tokenizers@0.23.2), and every merge recounts every pair
// of every word, so none of lingraft's incremental bookkeeping is shared. The same rule:
// the highest count first, ties to the smaller left id, then the smaller right id (ids: the
// trained file's 256 byte tokens, then each new token in the order it is made; a merge that
// makes an existing token reuses it; a pair merged before is not listed twice).
//   node bpe-naive.mjs TOKENIZER_JSON TEXT N   prints the first N merges, "a b" a line
import { readFileSync } from 'node:fs';
import { Tokenizer } from 'tokenizers';

const [tokPath, path, nArg] = process.argv.slice(2);
const tok = Tokenizer.fromFile(tokPath);
const pre = tok.getPreTokenizer();
const lines = readFileSync(path, 'utf8').split('\n');
if (lines.length && lines[lines.length - 1] === '') lines.pop();
const counts = new Map();
for (let line of lines) {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    // lingraft's cleaning (lg_text_clean): BOM dropped, TAB..CR and NEL a space, other
    // control characters removed; lines of spaces only skipped
    line = line.replace(/\uFEFF/g, '').replace(/[\t-\r\u0085]/g, ' ')
        .replace(/[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]/g, '');
    if (/^ *$/.test(line)) continue;
    for (const [w] of pre.preTokenizeString(line)) counts.set(w, (counts.get(w) || 0) + 1);
}
const vocab = JSON.parse(readFileSync(tokPath, 'utf8')).model.vocab;
const id = new Map(), str = [];
for (const [s, i] of Object.entries(vocab)) if (i < 256) { id.set(s, i); str[i] = s; }
const words = [...counts].map(([w, c]) => ({ s: [...w].map((ch) => id.get(ch)), c }));
const done = new Set(), out = [];
const n = Number(nArg);
while (out.length < n) {
    const pc = new Map();
    for (const w of words)
        for (let i = 0; i + 1 < w.s.length; i++) {
            const k = w.s[i] * 1e6 + w.s[i + 1];
            pc.set(k, (pc.get(k) || 0) + w.c);
        }
    let best = -1, bc = 0;
    for (const [k, c] of pc) if (c > bc || (c === bc && k < best)) { best = k; bc = c; }
    if (best < 0 || bc < 2) break;
    const a = Math.floor(best / 1e6), b = best % 1e6, s = str[a] + str[b];
    let t = id.get(s);
    if (t === undefined) { t = str.length; id.set(s, t); str.push(s); }
    if (!done.has(best)) { out.push(str[a] + ' ' + str[b]); done.add(best); }
    for (const w of words) {
        const r = [];
        for (let i = 0; i < w.s.length; i++)
            if (i + 1 < w.s.length && w.s[i] === a && w.s[i + 1] === b) { r.push(t); i++; }
            else r.push(w.s[i]);
        w.s = r;
    }
}
process.stdout.write(out.join('\n') + '\n');
