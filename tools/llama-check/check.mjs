// llama-check: does llama.cpp, given a GGUF, predict what the reference predicts?
//
// usage: node check.mjs --gguf MODEL.gguf --reference REF.safetensors [--max-logprob-diff X]
//        node check.mjs --gguf MODEL.gguf --tokenize TEXT
//
// REF.safetensors holds `input_ids` (I64 [B, T]) and `logits` (F32 or F64 [B, T, V]),
// as the Hugging Face fixtures do. Each row of input_ids is evaluated in llama.cpp
// (node-llama-cpp, CPU only, token ids as given: no tokenisation, no BOS added). At every
// position two things are compared with the reference:
//   - the greedy next token (llama.cpp's most probable token vs the reference argmax; a
//     near tie, llama.cpp's token within the tolerance of the best in the reference's
//     log-probabilities, counts as agreeing and is reported as one);
//   - the whole next-token distribution: max |log p_llama.cpp - log softmax(reference)|
//     over the vocabulary must stay within --max-logprob-diff (default 1e-4).
// The second matters: on a random-weight tiny model attention barely moves the argmax, so
// a wrong q/k row order can still agree on every greedy token (measured here: a GGUF
// written without the permutation agreed at 34/34 positions, but its log-probabilities
// were off by 9e-3 against 9e-7 for the right one).
// Prints one line per position and a summary; exits 1 when a check fails, 2 on a usage
// or load error.
// With --tokenize, prints the ids llama.cpp's own tokenizer gives each line of TEXT (no
// BOS), as `spm_encode --output_format=id` prints them, to compare the exported vocabulary.
import { readFileSync } from "node:fs";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const USAGE = "usage: node check.mjs --gguf MODEL.gguf --reference REF.safetensors [--max-logprob-diff X]\n" +
              "       node check.mjs --gguf MODEL.gguf --tokenize TEXT";

function usage(message) {
    if (message) console.error(`llama-check: ${message}`);
    console.error(USAGE);
    process.exit(2);
}

function parseArgs(argv) {
    const args = { "max-logprob-diff": "1e-4" };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--help" || a === "-h") {
            console.log(USAGE);
            process.exit(0);
        }
        if (a === "--gguf" || a === "--reference" || a === "--max-logprob-diff" || a === "--tokenize") {
            if (i + 1 >= argv.length) usage(`${a} needs a value`);
            args[a.slice(2)] = argv[++i];
        } else {
            usage(`unexpected argument ${a}`);
        }
    }
    if (!args.gguf || !(args.reference || args.tokenize)) usage("--gguf and --reference or --tokenize are required");
    args.tolerance = Number(args["max-logprob-diff"]);
    if (!(args.tolerance > 0)) usage(`--max-logprob-diff ${args["max-logprob-diff"]} is not a positive number`);
    return args;
}

// A minimal safetensors reader: u64 header length, JSON header, data.
function readSafetensors(path) {
    const buf = readFileSync(path);
    if (buf.length < 8) throw new Error(`${path}: too short for safetensors`);
    const n = Number(buf.readBigUInt64LE(0));
    if (8 + n > buf.length) throw new Error(`${path}: header runs past the end of the file`);
    const header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8"));
    const base = 8 + n;
    const kinds = { F32: Float32Array, F64: Float64Array, I64: BigInt64Array, I32: Int32Array };
    return (name) => {
        const t = header[name];
        if (!t) throw new Error(`${path}: no tensor ${name}`);
        const [begin, end] = t.data_offsets;
        const Kind = kinds[t.dtype];
        if (!Kind) throw new Error(`${path}: ${name} has dtype ${t.dtype}`);
        if (base + end > buf.length) throw new Error(`${path}: ${name} runs past the end of the file`);
        const copy = new ArrayBuffer(end - begin);   // aligned for the typed array
        new Uint8Array(copy).set(buf.subarray(base + begin, base + end));
        return { shape: t.shape, data: new Kind(copy) };
    };
}

// Argmax, the gap to the runner-up, and log-softmax of one row of logits.
function analyse(row) {
    let best = 0;
    for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
    let second = -Infinity;
    for (let i = 0; i < row.length; i++) if (i !== best && row[i] > second) second = row[i];
    let z = 0;
    for (const x of row) z += Math.exp(x - row[best]);
    const logZ = row[best] + Math.log(z);
    return { best, gap: row[best] - second, logp: (i) => row[i] - logZ };
}

async function tokenize(args) {
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, progressLogs: false });
    const model = await llama.loadModel({ modelPath: args.gguf, gpuLayers: 0, vocabOnly: true });
    const lines = readFileSync(args.tokenize, "utf8").split("\n");
    if (lines.at(-1) === "") lines.pop();
    for (const line of lines) console.log(model.tokenize(line, false).join(" "));
    await model.dispose();
    await llama.dispose();
}

async function main() {
    const args = parseArgs(process.argv.slice(2));
    if (args.tokenize) return tokenize(args);
    const get = readSafetensors(args.reference);
    const ids = get("input_ids");
    const logits = get("logits");
    const [B, T] = ids.shape;
    const V = logits.shape[2];
    if (logits.shape[0] !== B || logits.shape[1] !== T) usage("input_ids and logits disagree in shape");

    // CPU only, and never build or download anything: the prebuilt binaries come with npm.
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, progressLogs: false });
    const model = await llama.loadModel({ modelPath: args.gguf, gpuLayers: 0 });
    if (model.tokens.trainContextSize < T) usage(`model context ${model.tokens.trainContextSize} < ${T}`);
    // One thread: the model is tiny, and llama.cpp's spinning worker threads crawl on a
    // loaded machine (measured: 4 s against 0.04 s for one evaluation at load average 13).
    // F32 KV cache and no flash attention: llama.cpp's defaults round K/V to F16, which
    // alone moves log-probabilities by ~3e-4 and would hide the differences checked here.
    const context = await model.createContext({
        contextSize: Math.max(T, 32), batchSize: Math.max(T, 32), sequences: 1, threads: 1,
        flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32",
    });
    const sequence = context.getSequence();

    let agree = 0, ties = 0, total = 0, minGap = Infinity, maxDiff = 0;
    for (let b = 0; b < B; b++) {
        const row = Array.from(ids.data.subarray(b * T, (b + 1) * T), (x) => Number(x));
        for (const t of row) if (t < 0 || t >= V) usage(`token id ${t} outside the vocabulary of ${V}`);
        await sequence.clearHistory();   // each row starts from an empty context
        const out = await sequence.controlledEvaluate(
            row.map((token) => [token, { generateNext: { probabilities: true } }]));
        for (let t = 0; t < T; t++) {
            const probs = out[t]?.next?.probabilities;
            if (!probs || probs.size === 0) throw new Error(`no probabilities at row ${b} position ${t}`);
            let llamaBest = -1, llamaP = -1;
            for (const [token, p] of probs) if (p > llamaP) { llamaP = p; llamaBest = token; }
            const ref = analyse(logits.data.subarray((b * T + t) * V, (b * T + t + 1) * V));
            let diff = 0;
            for (let i = 0; i < V; i++) diff = Math.max(diff, Math.abs(ref.logp(i) - Math.log(probs.get(i) ?? 0)));
            maxDiff = Math.max(maxDiff, diff);
            minGap = Math.min(minGap, ref.gap);
            // a near tie: llama.cpp's token is within the tolerance of the reference's best
            // (two correct implementations may order it either way; the log-probability
            // bound below still holds them to the tolerance)
            const tie = ref.best !== llamaBest && ref.logp(ref.best) - ref.logp(llamaBest) <= args.tolerance;
            const ok = ref.best === llamaBest || tie;
            agree += ok ? 1 : 0;
            ties += tie ? 1 : 0;
            total++;
            console.log(`row ${b} pos ${String(t).padStart(2)}: reference ${ref.best} llama.cpp ${llamaBest}` +
                        ` (reference top-1 gap ${ref.gap.toExponential(2)}, max |dlogp| ${diff.toExponential(2)})` +
                        `${tie ? "  near tie" : ok ? "" : "  MISMATCH"}`);
        }
    }
    sequence.dispose();
    await context.dispose();
    await model.dispose();
    await llama.dispose();
    const closeEnough = maxDiff <= args.tolerance;
    console.log(`llama-check: ${agree}/${total} greedy tokens agree${ties ? ` (${ties} of them near ties ` +
                `within the tolerance)` : ""} (smallest reference top-1/top-2 gap ` +
                `${minGap.toExponential(2)}); max |log p difference| ${maxDiff.toExponential(2)} ` +
                `(${closeEnough ? "within" : "EXCEEDS"} ${args.tolerance})`);
    process.exit(agree === total && closeEnough ? 0 : 1);
}

main().catch((e) => {
    console.error(`llama-check: ${e?.message ?? e}`);
    process.exit(2);
});
