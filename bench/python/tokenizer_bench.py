"""The tokenizer twin (bench/run.py): tiktoken's GPT-2 encoder (the Rust reference implementation of
GPT-2's BPE), the same files and the same output as bench_tokenizer (bench/tokenizer.cpp).
    .venv/bin/python bench/python/tokenizer_bench.py [--passes 3] [--tokenizer data/tokenizer/gpt2] FILE...
tiktoken downloads GPT-2's files at run time, which a machine without internet cannot; the Encoding
is built instead as tiktoken_ext/openai_public.py's gpt2() builds it (the same loader, pattern,
special token and vocabulary size) from the project's shipped encoder.json and vocab.bpe, which the
loader checks against the sha256 hashes gpt2() expects: they are the files tiktoken would download.
One untimed pass first: tiktoken keeps no per-word cache, but its regex engine builds parts of its
automata lazily on first use. Special tokens are encoded as plain text, as our encode(text) does:
encode_ordinary rather than encode, which raises on them. One thread, as ours: no encode_batch."""
import argparse
import json
import os
import platform
import sys
import time

# A local file needs no cache: without this the loader copies both files into /tmp/data-gym-cache.
os.environ["TIKTOKEN_CACHE_DIR"] = ""

import tiktoken  # noqa: E402
from tiktoken.load import data_gym_to_mergeable_bpe_ranks  # noqa: E402
from tiktoken_ext.openai_public import ENDOFTEXT, r50k_pat_str  # noqa: E402

# The hashes tiktoken_ext/openai_public.py's gpt2() passes for its downloaded vocab.bpe and encoder.json.
VOCAB_BPE_SHA256 = "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"
ENCODER_JSON_SHA256 = "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"


def gpt2_encoding(directory):
    """tiktoken's gpt2 Encoding, read from encoder.json + vocab.bpe in `directory`."""
    ranks = data_gym_to_mergeable_bpe_ranks(
        vocab_bpe_file=os.path.join(directory, "vocab.bpe"),
        encoder_json_file=os.path.join(directory, "encoder.json"),
        vocab_bpe_hash=VOCAB_BPE_SHA256,
        encoder_json_hash=ENCODER_JSON_SHA256,
    )
    return tiktoken.Encoding(name="gpt2", explicit_n_vocab=50257, pat_str=r50k_pat_str,
                             mergeable_ranks=ranks, special_tokens={ENDOFTEXT: 50256})


def hash_ids(ids):
    """FNV-1a over the ids as 32-bit words, as bench_tokenizer computes it."""
    h = 2166136261
    for i in ids:
        h = ((h ^ i) * 16777619) & 0xFFFFFFFF
    return h


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--passes", type=int, default=3)
    p.add_argument("--tokenizer", default="data/tokenizer/gpt2", help="folder with encoder.json and vocab.bpe")
    p.add_argument("files", nargs="+")
    args = p.parse_args()
    passes = max(1, args.passes)

    buffers = []
    for path in args.files:
        with open(path, "rb") as f:
            buffers.append(f.read())
    texts = [b.decode("utf-8") for b in buffers]  # strict: ours encodes the bytes, so both must see them all
    enc = gpt2_encoding(args.tokenizer)

    ids = [enc.encode_ordinary(t) for t in texts]  # warm-up
    seconds = []
    for _ in range(passes):
        start = time.perf_counter()
        ids = [enc.encode_ordinary(t) for t in texts]
        seconds.append(time.perf_counter() - start)
    median = sorted(seconds)[len(seconds) // 2]

    nbytes = sum(len(b) for b in buffers)
    files = [dict(path=path, bytes=len(b), tokens=len(i), hash=hash_ids(i))
             for path, b, i in zip(args.files, buffers, ids)]
    print(json.dumps(dict(side="twin", impl="tiktoken " + tiktoken.__version__,
                          python=platform.python_version(), mb_per_s=nbytes / median / 1e6, bytes=nbytes,
                          tokens=sum(f["tokens"] for f in files), files=files)))


if __name__ == "__main__":
    sys.exit(main())
