"""``python -m bench``: run every benchmark and write bench/results.json."""

if __name__ == "__main__":  # guarded: worker processes started with "spawn" import this module too
    from bench.run import main

    main()
