import Foundation

import Synchronization

/// Counters, gauges and histograms rendered in the Prometheus text exposition format.
///
/// Thread-safe. Families are declared once with their help text; samples are keyed by their
/// label set. A path that records the same sample on every request keeps its `Series`: an
/// update then takes only that series' own lock, with no lookup and no string work.
public final class MetricsRegistry: @unchecked Sendable {
    public enum Kind: String, Sendable { case counter, gauge, histogram }

    /// Label names and values of one sample; rendered sorted by name.
    public typealias Labels = [String: String]

    /// One sample (a label set of a family), updated on its own.
    public final class Series: Sendable {
        struct State {
            var value: Double = 0
            /// Observations per bucket, not cumulative (rendering sums them); the last is +Inf.
            var bucketCounts: [UInt64]
            var count: UInt64 = 0
        }

        /// The family's upper bounds, ascending; empty for counters and gauges.
        let buckets: [Double]
        let state: Mutex<State>

        init(buckets: [Double]) {
            self.buckets = buckets
            state = Mutex(State(bucketCounts: Array(repeating: 0, count: buckets.count + 1)))
        }

        /// Adds `amount` to a counter (or gauge).
        public func add(_ amount: Double = 1) {
            state.withLock { $0.value += amount }
        }

        /// Records one observation in a histogram.
        public func observe(_ value: Double) {
            let bucket = buckets.firstIndex { value <= $0 } ?? buckets.count
            state.withLock {
                $0.bucketCounts[bucket] += 1
                $0.count += 1
                $0.value += value
            }
        }

        /// Records every value of `values`, under one lock.
        public func observe(each values: [Double]) {
            let indices = values.map { value in buckets.firstIndex { value <= $0 } ?? buckets.count }
            state.withLock {
                for index in indices { $0.bucketCounts[index] += 1 }
                $0.count += UInt64(values.count)
                $0.value += values.reduce(0, +)
            }
        }
    }

    private struct Family {
        var kind: Kind
        var help: String
        var buckets: [Double] = []
        var samples: [String: Series] = [:]
    }

    private let lock = NSLock()
    private var families: [String: Family] = [:]
    private var order: [String] = []
    private var gauges: [(name: String, help: String, read: @Sendable () -> [(labels: String, value: Double)])] = []

    public init() {}

    /// Declares a family; declaring the same name twice keeps the first.
    public func declare(_ name: String, kind: Kind, help: String, buckets: [Double] = []) {
        lock.withLock {
            guard families[name] == nil else { return }
            families[name] = Family(kind: kind, help: help, buckets: buckets.sorted())
            order.append(name)
        }
    }

    /// Declares a gauge whose samples are read when the metrics are rendered.
    public func declareGauge(_ name: String, help: String, read: @escaping @Sendable () -> [(labels: Labels, value: Double)]) {
        lock.withLock {
            gauges.append((name, help, { read().map { (Self.render($0.labels), $0.value) } }))
        }
    }

    /// The sample of family `name` with labels already rendered by `render(sorted:)`, made on
    /// first use; nil when the family was never declared.
    public func series(_ name: String, rendered key: String) -> Series? {
        lock.withLock {
            guard let family = families[name] else { return nil }
            if let series = family.samples[key] { return series }
            let series = Series(buckets: family.buckets)
            families[name]!.samples[key] = series
            return series
        }
    }

    /// Adds `amount` to a counter.
    public func add(_ name: String, _ labels: Labels = [:], _ amount: Double = 1) {
        add(name, rendered: Self.render(labels), amount)
    }

    /// `add` with labels already rendered by `render(sorted:)`.
    public func add(_ name: String, rendered key: String, _ amount: Double = 1) {
        series(name, rendered: key)?.add(amount)
    }

    /// Records one observation in a histogram.
    public func observe(_ name: String, _ labels: Labels = [:], _ value: Double) {
        observe(name, rendered: Self.render(labels), value)
    }

    /// `observe` with labels already rendered by `render(sorted:)`.
    public func observe(_ name: String, rendered key: String, _ value: Double) {
        series(name, rendered: key)?.observe(value)
    }

    /// Records every value of `values` in one histogram sample, under one lock.
    public func observe(_ name: String, rendered key: String, each values: [Double]) {
        series(name, rendered: key)?.observe(each: values)
    }

    /// The current value of a counter sample (0 when absent); for tests and status pages.
    public func value(_ name: String, _ labels: Labels = [:]) -> Double {
        let key = Self.render(labels)
        return lock.withLock { families[name]?.samples[key] }?.state.withLock { $0.value } ?? 0
    }

    /// Everything, in the Prometheus text format (version 0.0.4).
    public func render() -> String {
        let (snapshot, names, readers) = lock.withLock { (families, order, gauges) }
        var out = ""
        for name in names {
            guard let family = snapshot[name] else { continue }
            out += "# HELP \(name) \(family.help)\n# TYPE \(name) \(family.kind.rawValue)\n"
            for key in family.samples.keys.sorted() {
                let sample = family.samples[key]!.state.withLock { $0 }
                if family.kind == .histogram {
                    var cumulative: UInt64 = 0
                    for (i, bound) in family.buckets.enumerated() {
                        cumulative += sample.bucketCounts[i]
                        out += "\(name)_bucket\(Self.merge(key, "le=\"\(Self.format(bound))\"")) \(cumulative)\n"
                    }
                    out += "\(name)_bucket\(Self.merge(key, "le=\"+Inf\"")) \(sample.count)\n"
                    out += "\(name)_sum\(key) \(Self.format(sample.value))\n"
                    out += "\(name)_count\(key) \(sample.count)\n"
                } else {
                    out += "\(name)\(key) \(Self.format(sample.value))\n"
                }
            }
        }
        for gauge in readers {
            out += "# HELP \(gauge.name) \(gauge.help)\n# TYPE \(gauge.name) gauge\n"
            for sample in gauge.read() { out += "\(gauge.name)\(sample.labels) \(Self.format(sample.value))\n" }
        }
        return out
    }

    private static func render(_ labels: Labels) -> String {
        render(sorted: labels.sorted(by: { $0.key < $1.key }).map { ($0.key, $0.value) })
    }

    /// A label set as it appears in the exposition, `{name="value",…}`; pairs sorted by name.
    public static func render(sorted labels: [(String, String)]) -> String {
        guard !labels.isEmpty else { return "" }
        var out = "{"
        for (i, label) in labels.enumerated() {
            if i > 0 { out += "," }
            out += label.0
            out += "=\""
            out += escape(label.1)
            out += "\""
        }
        return out + "}"
    }

    private static func merge(_ key: String, _ extra: String) -> String {
        key.isEmpty ? "{\(extra)}" : String(key.dropLast()) + ",\(extra)}"
    }

    private static func escape(_ value: String) -> String {
        // Label values are route patterns and model names: nearly always nothing to escape.
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) else {
            return value
        }
        return value.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
