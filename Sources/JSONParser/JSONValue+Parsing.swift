import CFastFloatShims
import CYAJL

/// Why a document is not JSON, or not JSON this parser takes.
public struct JSONParseError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

extension JSONValue {
    /// Parses one JSON document (UTF-8, nothing after it but white space) with yajl's event
    /// parser, building values as the events come: no intermediate tree of yajl's own.
    ///
    /// - Parameter maxDepth: the most nesting of arrays and objects accepted.
    /// - Throws: `JSONParseError` with yajl's message and where it stopped.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) throws -> JSONValue {
        let builder = JSONBuilder(maxDepth: maxDepth)
        let context = Unmanaged.passUnretained(builder).toOpaque()
        var callbacks = JSONBuilder.callbacks
        guard let handle = yajl_alloc(&callbacks, nil, context) else { throw JSONParseError(description: "out of memory") }
        defer { yajl_free(handle) }
        var status = yajl_parse(handle, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
        if status == yajl_status_ok { status = yajl_complete_parse(handle) }
        if let problem = builder.problem { throw JSONParseError(description: problem) }
        guard status == yajl_status_ok, let root = builder.root else {
            let message = yajl_get_error(handle, 0, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
            defer { yajl_free_error(handle, message) }
            let text = message.map { String(cString: $0) } ?? "unknown error"
            let offset = yajl_get_bytes_consumed(handle)
            throw JSONParseError(description: "\(text.trimmingWhitespace) (at byte \(offset))")
        }
        return root
    }

    /// `parse` over an array's bytes.
    public static func parse(_ bytes: ArraySlice<UInt8>, maxDepth: Int = 64) throws -> JSONValue {
        try bytes.withUnsafeBytes { try parse($0, maxDepth: maxDepth) }
    }
}

/// Turns yajl's events into `JSONValue`s: a stack of open arrays and objects.
private final class JSONBuilder {
    /// An open array or object. A struct in `stack`, so that appending to the innermost one
    /// mutates it in place: taking an enum's payload out and back would copy the array each time.
    struct Container {
        enum Kind { case array, object }
        let kind: Kind
        /// Numbers so far, while every element of an array has been one.
        var numbers: [Double] = []
        /// The elements of an array that holds something other than numbers.
        var values: [JSONValue] = []
        var allNumbers = true
        var members = JSONObject()
        var key: String?

        var value: JSONValue {
            switch kind {
            case .object: return .object(members)
            case .array: return allNumbers ? (numbers.isEmpty ? .array([]) : .numbers(numbers)) : .array(values)
            }
        }
    }

    let maxDepth: Int
    var stack: [Container] = []
    var root: JSONValue?
    /// Set when a callback refused the document; yajl then stops with a client-cancelled error.
    var problem: String?

    init(maxDepth: Int) {
        self.maxDepth = maxDepth
    }

    /// Returns 1 to go on, 0 to stop (yajl's convention).
    func add(_ value: JSONValue) -> Int32 {
        guard !stack.isEmpty else {
            root = value
            return 1
        }
        let top = stack.count - 1
        switch stack[top].kind {
        case .array:
            if stack[top].allNumbers, case .number(let number) = value {
                stack[top].numbers.append(number)
            } else {
                if stack[top].allNumbers {
                    stack[top].allNumbers = false
                    stack[top].values = stack[top].numbers.map(JSONValue.number)
                    stack[top].numbers = []
                }
                stack[top].values.append(value)
            }
        case .object:
            guard let key = stack[top].key else { return 0 }
            stack[top].members.append(key: key, value: value)
            stack[top].key = nil
        }
        return 1
    }

    func open(_ kind: Container.Kind) -> Int32 {
        guard stack.count < maxDepth else {
            problem = "the document nests arrays and objects deeper than \(maxDepth) levels"
            return 0
        }
        stack.append(Container(kind: kind))
        return 1
    }

    func close() -> Int32 {
        guard let container = stack.popLast() else { return 0 }
        return add(container.value)
    }

    func key(_ key: String) -> Int32 {
        guard let top = stack.indices.last, stack[top].kind == .object, stack[top].key == nil else { return 0 }
        stack[top].key = key
        return 1
    }

    /// Calls `body` with the builder behind yajl's context. `parse` keeps the builder alive
    /// for the whole parse, so no retain and release per event.
    static func with(_ context: UnsafeMutableRawPointer?, _ body: (JSONBuilder) -> Int32) -> Int32 {
        Unmanaged<JSONBuilder>.fromOpaque(context!)._withUnsafeGuaranteedRef(body)
    }

    static func text(_ pointer: UnsafePointer<UInt8>?, _ length: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    static let callbacks = yajl_callbacks(
        yajl_null: { context in with(context) { $0.add(.null) } },
        yajl_boolean: { context, value in with(context) { $0.add(.bool(value != 0)) } },
        yajl_integer: nil,
        yajl_double: nil,
        // Numbers arrive as their text, which yajl has checked against JSON's grammar. fast_float
        // reads it in place and rounds as strtod does; glibc's strtod takes a slow multi-precision
        // path for the 17-digit numbers clients print, most of a JSON tensor's parse.
        yajl_number: { context, text, length in
            with(context) { builder in
                var value = 0.0
                guard let text, fixserve_parse_double(text, length, &value) == 1 else {
                    builder.problem = "a number of \(length) characters could not be read"
                    return 0
                }
                return builder.add(.number(value))
            }
        },
        yajl_string: { context, bytes, length in with(context) { $0.add(.string(text(bytes, length))) } },
        yajl_start_map: { context in with(context) { $0.open(.object) } },
        yajl_map_key: { context, bytes, length in with(context) { $0.key(text(bytes, length)) } },
        yajl_end_map: { context in with(context) { $0.close() } },
        yajl_start_array: { context in with(context) { $0.open(.array) } },
        yajl_end_array: { context in with(context) { $0.close() } })
}

private extension String {
    var trimmingWhitespace: String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        return String(text)
    }
}
