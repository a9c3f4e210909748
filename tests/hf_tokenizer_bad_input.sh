#!/bin/sh
# A broken tokenizer.json is refused with one message naming the file and the field, exit 1,
# and no output: malformed JSON, a model other than BPE, merges naming unknown pieces,
# duplicate ids, a regex that does not compile, added tokens past the vocabulary, components
# lingraft does not run (each variant is tests/data/tokenize/tiny-tokenizer.json edited).
set -eu
: "${LG_BIN:=bin}"
good=tests/data/tokenize/tiny-tokenizer.json
tmp=$(mktemp -d build/hf_bad.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
echo "abc ab" >"$tmp/in.txt"
# the good file works (so each refusal below is the edit's doing)
"$LG_BIN/tokenize" encode --ids -m "$good" "$tmp/in.txt" >"$tmp/ok.ids"
[ "$(cat "$tmp/ok.ids")" = "6 4 5" ] || { echo "FAIL: tiny tokenizer: $(cat "$tmp/ok.ids")"; exit 1; }

# refuse NAME SED_EXPRESSION EXPECTED_MESSAGE_PART
refuse() {
    name=$1 expr=$2 want=$3
    f="$tmp/$name/tokenizer.json"
    mkdir -p "$tmp/$name"
    sed "$expr" "$good" >"$f"
    if cmp -s "$f" "$good"; then echo "FAIL: $name: the edit changed nothing"; exit 1; fi
    rc=0
    "$LG_BIN/tokenize" encode --ids -m "$tmp/$name" -o "$tmp/$name.ids" "$tmp/in.txt" \
        >"$tmp/$name/stdout" 2>"$tmp/$name/stderr" || rc=$?
    msg=$(cat "$tmp/$name/stderr")
    [ "$rc" -eq 1 ] || { echo "FAIL: $name: exit $rc (want 1): $msg"; exit 1; }
    [ ! -e "$tmp/$name.ids" ] || { echo "FAIL: $name: output written"; exit 1; }
    [ "$(wc -l <"$tmp/$name/stderr")" -eq 1 ] || { echo "FAIL: $name: not one line: $msg"; exit 1; }
    case $msg in *"$f"*) ;; *) echo "FAIL: $name: the message does not name $f: $msg"; exit 1 ;; esac
    case $msg in *"$want"*) ;; *) echo "FAIL: $name: want '$want' in: $msg"; exit 1 ;; esac
    echo "ok $name: $msg"
}

refuse malformed '$d' 'not valid JSON (near byte'
refuse truncated 's/"vocab": {/"vocab": {"x": /' 'not valid JSON'
refuse wordpiece 's/"type": "BPE"/"type": "WordPiece"/' 'model.type: "WordPiece" is not supported (only BPE)'
refuse unigram 's/"type": "BPE"/"type": "Unigram"/' 'model.type: "Unigram" is not supported'
refuse merge-unknown 's/\["ab", "c"\]/["ab", "zz"]/' 'model.merges[1]: "zz" is not in model.vocab'
refuse merge-result 's/"abc": 6, //; s/"ba": 7/"ba": 6/' 'model.merges[1]: the merged piece "abc" is not in model.vocab'
refuse merge-shape 's/\["b", "a"\]/["b", "a", "c"]/' 'model.merges[2]: not a string'
refuse duplicate-id 's/"c": 3/"c": 2/' 'model.vocab: duplicate id 2'
refuse id-past-vocab 's/"ba": 7/"ba": 70/' 'model.vocab["ba"]: id 70 is past'
refuse id-huge 's/"ba": 7/"ba": 7e300/' 'model.vocab["ba"]: id 7e+300 is past'
refuse regex 's/"Regex": "\\\\s+"/"Regex": "([a-"/' 'pre_tokenizer.pretokenizers[0].pattern.Regex: "([a-" does not compile'
refuse added-past 's/"id": 9, "content": "\[X\]"/"id": 90, "content": "[X]"/' 'added_tokens: id 90 is past the vocabulary'
refuse added-dup 's/"id": 9, "content": "\[X\]"/"id": 8, "content": "[X]"/' 'duplicate id 8'
refuse added-steals 's/"id": 9, "content": "\[X\]"/"id": 3, "content": "[X]"/' 'added_tokens[1].id: 3 belongs to "c"'
refuse unk-missing 's/"unk_token": "<unk>"/"unk_token": "<nope>"/' 'model.unk_token: "<nope>" is not in model.vocab'
refuse normalizer 's/{"type": "NFKC"}/{"type": "Precompiled", "precompiled_charsmap": ""}/' 'normalizer.normalizers[0]: normalizer "Precompiled" is not supported'
refuse pretokenizer 's/{"type": "Digits", "individual_digits": true}/{"type": "BertPreTokenizer"}/' 'pre_tokenizer.pretokenizers[1]: pre-tokenizer "BertPreTokenizer" is not supported'
refuse decoder 's/{"type": "Fuse"}/{"type": "WordPiece", "prefix": "##"}/' 'decoder.decoders[1]: decoder "WordPiece" is not supported'
refuse behavior 's/"MergedWithNext"/"Sideways"/' 'pre_tokenizer.pretokenizers[0].behavior: not one of'
refuse dropout 's/"dropout": null/"dropout": 0.1/' 'model.dropout: BPE dropout is not supported'
refuse not-object 's/.*//' 'not valid JSON'
refuse invalid-utf8 's/"a": 1/"a\xff": 1/' 'not valid UTF-8 at byte'
echo "hf_tokenizer_bad_input: every broken file refused by name"
