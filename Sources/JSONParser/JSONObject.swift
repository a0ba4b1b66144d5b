/// The members of a JSON object, in the document's order.
///
/// The objects clients send hold a handful of members, which a scan finds faster than a hash
/// table is built and probed: an inference request's header has four or five objects, each
/// looked up a few times. A key that appears twice counts with its last value, as it would in
/// a dictionary filled member by member; lookups scan from the end, so a document with many
/// members costs one pass per lookup and nothing per member when it is built.
public struct JSONObject: Sendable, Equatable {
    /// One `"key": value` pair.
    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// Every member as written, repeated keys included.
    public private(set) var members: [Member]

    public init(_ members: [Member] = []) {
        self.members = members
    }

    /// An object with the dictionary's members (in no particular order).
    public init(_ dictionary: [String: JSONValue]) {
        members = dictionary.map { Member(key: $0.key, value: $0.value) }
    }

    /// The value of `key`: its last member with that key.
    public subscript(key: String) -> JSONValue? {
        members.last { $0.key == key }?.value
    }

    /// The members as a dictionary, repeated keys resolved to their last value.
    public var dictionary: [String: JSONValue] {
        Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    mutating func append(key: String, value: JSONValue) {
        members.append(Member(key: key, value: value))
    }

    /// Equal when the same keys have the same values, whatever their order (as JSON objects are).
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.dictionary == rhs.dictionary
    }
}
