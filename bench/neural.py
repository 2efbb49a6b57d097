"""CPU cost of the transformers engine at t5-base size, so deployments can plan hardware.

A randomly initialised model with the real t5-base shape (config only: nothing is downloaded) greedily
decodes a fixed number of tokens per item (min_new_tokens = max_new_tokens, so a random model cannot
stop early). One report = ITEMS items of INPUT_TOKENS input tokens each. Prints ms per report for each
batch size. Usage: .venv/bin/python bench/neural.py [--items 10] [--new-tokens 32] [--input-tokens 64]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10, help="items per report")
    parser.add_argument("--new-tokens", type=int, default=32, help="generated tokens per item")
    parser.add_argument("--input-tokens", type=int, default=64, help="input tokens per item")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=2, help="timed reports per batch size")
    args = parser.parse_args()

    started = time.perf_counter()
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    imported = time.perf_counter()
    torch.manual_seed(0)
    config = T5Config(
        d_model=768,
        d_ff=3072,
        d_kv=64,
        num_layers=12,
        num_decoder_layers=12,
        num_heads=12,
        vocab_size=32128,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,  # t5-base's special tokens
    )
    model = T5ForConditionalGeneration(config).eval()
    built = time.perf_counter()
    params = sum(p.numel() for p in model.parameters())
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; t5-base shape, {params / 1e6:.0f}M params"
    )
    print(
        f"import torch+transformers {imported - started:.1f} s; build random model {built - imported:.1f} s"
    )
    print(
        f"report = {args.items} items x {args.input_tokens} input tokens, "
        f"greedy, exactly {args.new_tokens} new tokens per item"
    )

    inputs = torch.randint(3, config.vocab_size, (args.items, args.input_tokens))
    inputs[:, -1] = config.eos_token_id

    def report(batch_size: int) -> float:
        t0 = time.perf_counter()
        with torch.inference_mode():
            for start in range(0, args.items, batch_size):
                batch = inputs[start : start + batch_size]
                out = model.generate(
                    input_ids=batch,
                    attention_mask=torch.ones_like(batch),
                    do_sample=False,
                    num_beams=1,
                    max_new_tokens=args.new_tokens,
                    min_new_tokens=args.new_tokens,
                )
                assert out.shape[1] == args.new_tokens + 1  # decoder start token + new tokens
        return (time.perf_counter() - t0) * 1000

    report(args.batch_sizes[0])  # warm-up (allocator, kernels)
    for batch_size in args.batch_sizes:
        times = [report(batch_size) for _ in range(args.repeats)]
        per_item = statistics.median(times) / args.items
        print(
            f"batch {batch_size}: {statistics.median(times):.0f} ms per report "
            f"(runs: {', '.join(f'{t:.0f}' for t in times)} ms; {per_item:.0f} ms per item)"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
