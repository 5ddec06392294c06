perf cpu-clock
