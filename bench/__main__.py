"""``python -m bench``: run every benchmark, print the figures, append them to bench/RESULTS.md."""

from bench import pdf_bench

if __name__ == "__main__":
    pdf_bench.main()
