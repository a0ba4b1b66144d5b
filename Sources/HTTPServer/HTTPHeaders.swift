/// An ordered list of header fields with case-insensitive lookup. Names are stored lowercased
/// (HTTP/2 requires it and HTTP/1.1 field names are case-insensitive); values are kept as sent.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    /// One header field.
    public struct Field: Sendable, Equatable {
        /// The lowercased field name.
        public var name: String
        /// The field value, without surrounding whitespace.
        public var value: String
    }

    private var fields: [Field] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { add(name: name, value: value) }
    }

    /// Reserves room for `count` fields.
    public mutating func reserveCapacity(_ count: Int) {
        fields.reserveCapacity(count)
    }

    /// Removes every field; with `keepingCapacity`, the storage stays for the next fields.
    mutating func removeAll(keepingCapacity: Bool) {
        fields.removeAll(keepingCapacity: keepingCapacity)
    }

    /// Number of fields, counting repeated names separately.
    public var count: Int { fields.count }

    /// Appends a field, keeping any existing field with the same name.
    public mutating func add(name: String, value: String) {
        fields.append(Field(name: HTTPHeaders.lowercased(name), value: value))
    }

    /// Appends a field whose name is known to be lowercase already (HTTP/2 guarantees it).
    mutating func add(lowercasedName name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// Replaces every field named `name` by one field with `value`.
    public mutating func replaceOrAdd(name: String, value: String) {
        remove(name: name)
        add(name: name, value: value)
    }

    /// Removes every field named `name` (case-insensitive).
    public mutating func remove(name: String) {
        let lowered = name.lowercased()
        fields.removeAll { $0.name == lowered }
    }

    /// The first value for `name` (case-insensitive), or nil.
    public subscript(name: String) -> String? {
        let lowered = HTTPHeaders.lowercased(name)
        return fields.first { $0.name == lowered }?.value
    }

    /// `name.lowercased()`, without the allocation when it is lowercase already (the usual case).
    private static func lowercased(_ name: String) -> String {
        name.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") } ? name.lowercased() : name
    }

    /// Every value for `name` (case-insensitive), in order.
    public func values(for name: String) -> [String] {
        let lowered = name.lowercased()
        return fields.filter { $0.name == lowered }.map(\.value)
    }

    /// True when a field named `name` exists.
    public func contains(_ name: String) -> Bool {
        self[name] != nil
    }

    public func makeIterator() -> IndexingIterator<[Field]> {
        fields.makeIterator()
    }
}
