/// A parsed JSON document.
///
/// Arrays that hold only numbers, which is how tensors travel in JSON, are kept flat as
/// `.numbers`, one `Double` each, rather than as one enum value per element.
///
/// Not `indirect`: the recursive cases already hold their elements in arrays, and an indirect
/// enum boxes every payload, a heap allocation per number or string parsed.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    /// An array holding only numbers (and not empty).
    case numbers([Double])
    case array([JSONValue])
    case object(JSONObject)

    /// The value of `key` in an object; nil for anything else or a missing key.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }

    /// The elements of an array (numbers as `.number`); nil for anything that is not an array.
    public var elements: [JSONValue]? {
        switch self {
        case .array(let values): return values
        case .numbers(let values): return values.map(JSONValue.number)
        default: return nil
        }
    }

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// Exactly an integer: 3 or 3.0, not 3.5, not true, not "3".
    public var exactInt: Int? {
        guard case .number(let value) = self, value.rounded() == value, abs(value) < 9.0e15 else { return nil }
        return Int(value)
    }

    /// A short description of the value's kind and, for scalars, the value: for error messages.
    public var summary: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return "\(value)"
        case .number(let value): return value.rounded() == value && abs(value) < 9.0e15 ? "\(Int(value))" : "\(value)"
        case .string(let value): return value.count > 40 ? "a string of \(value.count) characters" : "\"\(value)\""
        case .numbers, .array: return "an array"
        case .object: return "an object"
        }
    }
}
