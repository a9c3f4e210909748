// Hugging Face's own tokenizers (npm tokenizers@0.23.2), the reference lingraft's
// tokenizer.json reader is compared with (tests/hf_tokenizer_parity.sh, tools/hf-parity,
// tools/bench-tokenizers).
//   node reference.mjs encode TOKENIZER_JSON TEXT   ids of each line (no special tokens)
//   node reference.mjs encode-special TOKENIZER_JSON TEXT   the same with addSpecialTokens
//   node reference.mjs decode TOKENIZER_JSON IDS    text of each line of ids (specials kept)
//   node reference.mjs bench TOKENIZER_JSON TEXT [REPEATS]
//       encode throughput: one line at a time (one thread) and encodeBatch (its own
//       threads); prints "single MBPS" and "batch MBPS" (best of REPEATS, default 3)
// Lines are split as lingraft's corpus reader does: on "\n", one trailing "\r" removed.
import { readFileSync } from 'node:fs';
import { Tokenizer } from 'tokenizers';

const [mode, tokPath, path, repeatsArg] = process.argv.slice(2);
if (!mode || !tokPath || !path) {
    console.error('usage: node reference.mjs encode|encode-special|decode|bench TOKENIZER_JSON FILE');
    process.exit(2);
}
const tok = Tokenizer.fromFile(tokPath);
const text = readFileSync(path, 'utf8');
const lines = text.split('\n');
if (lines.length && lines[lines.length - 1] === '') lines.pop();
for (let i = 0; i < lines.length; i++) if (lines[i].endsWith('\r')) lines[i] = lines[i].slice(0, -1);
const opts = { addSpecialTokens: mode === 'encode-special' };
const out = [];
if (mode === 'encode' || mode === 'encode-special') {
    for (const line of lines) out.push((await tok.encode(line, null, opts)).getIds().join(' '));
} else if (mode === 'decode') {
    for (const line of lines) {
        const ids = line.trim() === '' ? [] : line.trim().split(/ +/).map(Number);
        out.push(await tok.decode(ids, false));
    }
} else if (mode === 'bench') {
    const bytes = Buffer.byteLength(text, 'utf8');
    const repeats = Number(repeatsArg || 3);
    let single = 0, batch = 0;
    for (let r = 0; r < repeats; r++) {
        let t0 = process.hrtime.bigint();
        for (const line of lines) await tok.encode(line, null, opts);
        let s = Number(process.hrtime.bigint() - t0) / 1e9;
        single = Math.max(single, bytes / s / 1e6);
        t0 = process.hrtime.bigint();
        for (let i = 0; i < lines.length; i += 4096)
            await tok.encodeBatch(lines.slice(i, i + 4096), opts);
        s = Number(process.hrtime.bigint() - t0) / 1e9;
        batch = Math.max(batch, bytes / s / 1e6);
    }
    console.log(`single ${single.toFixed(3)}`);
    console.log(`batch ${batch.toFixed(3)}`);
    process.exit(0);
} else {
    console.error(`reference.mjs: unknown mode ${mode}`);
    process.exit(2);
}
process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
