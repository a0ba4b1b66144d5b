/// The values of a matched route's `{parameters}`, by name.
///
/// Routes have at most a few parameters, so they are kept in order and found by a linear scan:
/// no hashing and, for the usual one or two short values, no allocation beyond the array's.
struct RouteParameters: Equatable, ExpressibleByDictionaryLiteral, Sendable {
    private var pairs: [(name: String, value: String)] = []

    init(dictionaryLiteral elements: (String, String)...) {
        pairs = elements.map { (name: $0.0, value: $0.1) }
    }

    /// The value of the parameter `name`, or nil when the route has none of that name.
    subscript(name: String) -> String? {
        for pair in pairs where pair.name == name { return pair.value }
        return nil
    }

    mutating func append(name: String, value: String) {
        if pairs.isEmpty { pairs.reserveCapacity(2) }
        pairs.append((name, value))
    }

    /// Equal when they name the same values, in whatever order.
    static func == (lhs: RouteParameters, rhs: RouteParameters) -> Bool {
        lhs.pairs.count == rhs.pairs.count && lhs.pairs.allSatisfy { rhs[$0.name] == $0.value }
    }
}
