// Generates N lines of text built to break a tokenizer.json implementation (deterministic:
// the same N and SEED give the same lines): whitespace runs (spaces, tabs, CR inside a line,
// Unicode spaces), digits of every length, contractions in any case (and the long s that
// folds to s), emoji with ZWJ and skin tones, combining marks, CJK, Arabic, Devanagari,
// Thai, Hangul, replacement characters (what lone surrogates become), byte-fallback bait
// (rare characters), SentencePiece marks, and the tokenizers' own added-token strings
// inside text.
//   node adversarial.mjs N SEED [TOKENIZER_JSON...] > lines.txt
import { readFileSync } from 'node:fs';

const [nArg, seedArg, ...toks] = process.argv.slice(2);
const n = Number(nArg || 1000);
let state = BigInt(seedArg || 1) | 1n;
function rnd(k) { // xorshift64*
    state ^= state >> 12n; state ^= (state << 25n) & 0xffffffffffffffffn; state ^= state >> 27n;
    const r = (state * 0x2545F4914F6CDD1Dn) & 0xffffffffffffffffn;
    return Number(r >> 33n) % k;
}
const pick = (a) => a[rnd(a.length)];

const specials = [];
for (const t of toks) {
    const j = JSON.parse(readFileSync(t, 'utf8'));
    const added = j.added_tokens || [];
    for (let i = 0; i < added.length; i++)
        if (i < 40 || rnd(50) === 0) specials.push(added[i].content.replace(/\n/g, ''));
}
const words = ['the', 'The', 'THE', 'hello', 'Hello', 'naïve', 'café', 'Straße', 'über', 'ĳsje',
    'zeeën', 'coöperatie', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'antidisestablishmentarianism',
    'don', 'I', 'we', 'you', 'x', 'ǅ', 'ﬁ', 'Ω', 'Σίσυφος', 'ΌΣΟΣ', 'Москва', 'ПРИВЕТ', 'İstanbul',
    'ß', 'ẞ', 'e\u0301', 'a\u0308\u0323', 'n\u0303', '\u0301', 'ﾃｽﾄ', 'ｆｕｌｌ', '①②', '½', 'Ⅻ',
    '東京', '日本語のテキスト', '中文字符', '한국어', 'ภาษาไทย', 'مرحبا', 'العربية', 'हिन्दी',
    'नमस्ते', 'ক্ষ', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '𐍈', '\u{1F600}', '\u{1F44D}\u{1F3FD}',
    '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}', '\u{1F3F3}\uFE0F\u200D\u{1F308}', '\u2764\uFE0F',
    '\uFFFD', '\uFFFD\uFFFD', '\u2581', '\u2581\u2581', '▁hello', 'Ġ', 'Ċ', '<0x41>', '<unk>',
    '\u00AD', '\u200B', '\u2060', '\uFEFF', '\u0000'.slice(1), 'a_b', '__init__', 'x86_64',
    'http://example.com/a?b=c&d=e', 'foo@bar.org', '#hashtag', '$100', '€5,00', '3.14159',
    '1e-10', '-42', '+31', '(', ')', '[', ']', '{', '}', '"', '\'', '`', '...', '…', '—', '–',
    '!!', '?!', ';', ':', ',', '.', '/', '\\', '|', '~', '^', '%', '*', '&', '=', '<', '>', '«»',
    '„', '”', '‘', '’', 'ſ', 'ſt', 'ﬅ', 'K', 'Å', 'xyzzy', 'qqx', '<x>', '[Y]', 'ABQZ', 'abqz'];
const contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Re", "'rE",
    "'VE", "'M", "'LL", "'Ll", "'D", "'ſ", "'x", "'", "''", "’s", "'s'", "'ll'd"];
const spaces = [' ', '  ', '   ', '    ', '\t', '\t\t', ' \t', '\t ', '\r', ' \r ', '\u00A0',
    '\u2009', '\u3000', '\u2028', '\u0085', '\u000B', '\u000C', '\u001F', '\u200A', '\u180E',
    '\u202F', '        ', '\u00A0 '];
function digits() {
    const len = 1 + rnd(rnd(4) === 0 ? 40 : 8);
    let s = '';
    for (let i = 0; i < len; i++) s += String(rnd(10));
    if (rnd(10) === 0) s = '٣٤٥'.slice(0, 1 + rnd(3)) + s; // Arabic-Indic digits
    if (rnd(10) === 0) s += '१२३'; // Devanagari digits
    return s;
}
function fragment() {
    switch (rnd(12)) {
    case 0: return digits();
    case 1: return pick(words) + pick(contractions);
    case 2: return pick(spaces);
    case 3: if (specials.length) return pick(specials); return pick(words);
    case 4: return pick(words).toUpperCase();
    case 5: return String.fromCodePoint(0x20 + rnd(0x2FF));
    case 6: return String.fromCodePoint([0x0300, 0x0600, 0x0900, 0x0E00, 0x3040, 0x4E00, 0xAC00,
        0x1F300, 0x2000, 0x2190, 0x1D400, 0x10000][rnd(12)] + rnd(200));
    default: return pick(words);
    }
}
const out = [];
for (let i = 0; i < n; i++) {
    const parts = 1 + rnd(rnd(8) === 0 ? 60 : 12);
    let line = '';
    for (let k = 0; k < parts; k++) line += (rnd(3) === 0 ? '' : pick([' ', ' ', ' ', '', '\t'])) + fragment();
    if (rnd(20) === 0) line = pick(spaces) + line;
    if (rnd(20) === 0) line = line + pick(spaces);
    // lone surrogates become U+FFFD when written as UTF-8
    out.push(line.replace(/\n/g, ' ').replace(/\r$/, ''));
}
process.stdout.write(out.join('\n') + '\n');
