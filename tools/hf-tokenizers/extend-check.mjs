// Checks an extended tokenizer.json (`tokenize extend` with a tokenizer.json base) with
// Hugging Face's own tokenizers (npm tokenizers@0.23.2), tests/hf_bpe_extend.sh:
//   node extend-check.mjs BASE_JSON EXTENDED_JSON TEXT
// prints "key value" lines:
//   base_ids N / kept N     ids of the base, and how many the extended file gives the same token
//   size N                  ids of the extended file (with added tokens)
//   lines N / changed N     TEXT lines, and how many encode differently (no special tokens)
//   tokens_base N / tokens_ext N   tokens of TEXT with each
//   new_uses N              tokens of TEXT (extended) with an id past the base's
//   bad_ids N               ids outside the extended vocabulary
//   roundtrip_bad N         lines whose extended decode is not the line
import { readFileSync } from 'node:fs';
import { Tokenizer } from 'tokenizers';

const [basePath, extPath, path] = process.argv.slice(2);
const base = Tokenizer.fromFile(basePath), ext = Tokenizer.fromFile(extPath);
const nBase = base.getVocabSize(true), nExt = ext.getVocabSize(true);
let kept = 0;
for (let i = 0; i < nBase; i++) if (base.idToToken(i) === ext.idToToken(i)) kept++;
const lines = readFileSync(path, 'utf8').split('\n');
if (lines.length && lines[lines.length - 1] === '') lines.pop();
const opts = { addSpecialTokens: false };
let changed = 0, tb = 0, te = 0, uses = 0, bad = 0, rt = 0;
for (let line of lines) {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const a = (await base.encode(line, null, opts)).getIds();
    const b = (await ext.encode(line, null, opts)).getIds();
    tb += a.length;
    te += b.length;
    if (a.join(' ') !== b.join(' ')) changed++;
    for (const id of b) {
        if (id >= nBase) uses++;
        if (id < 0 || id >= nExt) bad++;
    }
    if ((await ext.decode(b, false)) !== line) rt++;
}
console.log(`base_ids ${nBase}\nkept ${kept}\nsize ${nExt}\nlines ${lines.length}\nchanged ${changed}`);
console.log(`tokens_base ${tb}\ntokens_ext ${te}\nnew_uses ${uses}\nbad_ids ${bad}\nroundtrip_bad ${rt}`);
