import ArgumentParser

/// How long a micro-benchmark times its call: runs of a minimum length, the median reported.
struct TimingOptions: ParsableArguments {
    @Option(help: "Timed runs; the median is reported.")
    var runs = 11

    @Option(help: "Minimum length of one timed run, in milliseconds.")
    var runMilliseconds = 50

    var stopwatch: Stopwatch {
        Stopwatch(runs: max(1, runs), minimumRunNanoseconds: UInt64(max(1, runMilliseconds)) * 1_000_000)
    }
}
