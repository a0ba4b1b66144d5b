import Foundation

/// Counters, gauges and histograms rendered in the Prometheus text exposition format.
///
/// Thread-safe; every update takes one lock for a few dictionary operations. Families are
/// declared once with their help text; samples are keyed by their label set.
public final class MetricsRegistry: @unchecked Sendable {
    public enum Kind: String, Sendable { case counter, gauge, histogram }

    /// Label names and values of one sample; rendered sorted by name.
    public typealias Labels = [String: String]

    private struct Family {
        var kind: Kind
        var help: String
        var buckets: [Double] = []
        var samples: [String: Sample] = [:]
    }

    private struct Sample {
        var value: Double = 0
        var bucketCounts: [UInt64] = []
        var count: UInt64 = 0

        mutating func record(_ observation: Double, buckets: [Double]) {
            for (i, bound) in buckets.enumerated() where observation <= bound { bucketCounts[i] += 1 }
            count += 1
            value += observation
        }

        mutating func record(each observations: [Double], buckets: [Double]) {
            for observation in observations { record(observation, buckets: buckets) }
        }
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

    /// Adds `amount` to a counter, or sets a gauge declared with `declare` when `set` is true.
    public func add(_ name: String, _ labels: Labels = [:], _ amount: Double = 1) {
        add(name, rendered: Self.render(labels), amount)
    }

    /// `add` with labels already rendered by `render(sorted:)`: for per-request counters.
    public func add(_ name: String, rendered key: String, _ amount: Double = 1) {
        lock.withLock { families[name]?.samples[key, default: Sample()].value += amount }
    }

    /// Records one observation in a histogram.
    public func observe(_ name: String, _ labels: Labels = [:], _ value: Double) {
        observe(name, rendered: Self.render(labels), value)
    }

    /// `observe` with labels already rendered by `render(sorted:)`.
    public func observe(_ name: String, rendered key: String, _ value: Double) {
        lock.withLock {
            // Mutated in place: copying the family out would copy its whole sample table.
            guard let buckets = families[name]?.buckets else { return }
            families[name]!.samples[key, default: Sample(bucketCounts: Array(repeating: 0, count: buckets.count))].record(
                value, buckets: buckets)
        }
    }

    /// Records every value of `values` in one histogram sample, under one lock.
    public func observe(_ name: String, rendered key: String, each values: [Double]) {
        lock.withLock {
            guard let buckets = families[name]?.buckets else { return }
            families[name]!.samples[key, default: Sample(bucketCounts: Array(repeating: 0, count: buckets.count))].record(
                each: values, buckets: buckets)
        }
    }

    /// The current value of a counter sample (0 when absent); for tests and status pages.
    public func value(_ name: String, _ labels: Labels = [:]) -> Double {
        let key = Self.render(labels)
        return lock.withLock { families[name]?.samples[key]?.value ?? 0 }
    }

    /// Everything, in the Prometheus text format (version 0.0.4).
    public func render() -> String {
        let (snapshot, names, readers) = lock.withLock { (families, order, gauges) }
        var out = ""
        for name in names {
            guard let family = snapshot[name] else { continue }
            out += "# HELP \(name) \(family.help)\n# TYPE \(name) \(family.kind.rawValue)\n"
            for key in family.samples.keys.sorted() {
                let sample = family.samples[key]!
                if family.kind == .histogram {
                    for (i, bound) in family.buckets.enumerated() {
                        out += "\(name)_bucket\(Self.merge(key, "le=\"\(Self.format(bound))\"")) \(sample.bucketCounts[i])\n"
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
