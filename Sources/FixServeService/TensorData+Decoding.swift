import Foundation

extension TensorData {
    /// Decodes the JSON `data` of an input: a flat or nested array in row-major order.
    static func decodeJSON(_ value: Any, datatype: String, elements: Int, field: String) throws -> TensorData {
        var flat: [Any] = []
        // The shape is only a claim until the data is read: reserving it would let a 70-byte
        // body allocate gigabytes. Beyond this the array grows as the data arrives.
        flat.reserveCapacity(min(elements, 1 << 16))
        try flatten(value, into: &flat, limit: elements, field: field)
        guard flat.count == elements else {
            throw ServiceError.badRequest("\(field): data holds \(flat.count) elements but the shape declares \(elements)")
        }
        switch datatype {
        case "FP32":
            var out = [Float](repeating: 0, count: elements)
            for (i, element) in flat.enumerated() {
                guard let number = element as? NSNumber, !number.isJSONBoolean else {
                    throw ServiceError.badRequest("\(field): element \(i) is \(describe(element)), expected a number for FP32")
                }
                let v = number.floatValue
                guard v.isFinite else { throw ServiceError.badRequest("\(field): element \(i) is not a finite FP32 value") }
                out[i] = v
            }
            return .fp32(out)
        case "UINT8":
            var out = [UInt8](repeating: 0, count: elements)
            for (i, element) in flat.enumerated() {
                guard let v = exactInt(element), (0...255).contains(v) else {
                    throw ServiceError.badRequest("\(field): element \(i) is \(describe(element)), expected an integer 0…255 for UINT8")
                }
                out[i] = UInt8(v)
            }
            return .uint8(out)
        case "BYTES":
            var out: [[UInt8]] = []
            for (i, element) in flat.enumerated() {
                // Encoded images cannot travel as JSON text: BYTES elements in JSON are base64.
                guard let text = element as? String, let bytes = Data(base64Encoded: text) else {
                    throw ServiceError.badRequest("\(field): element \(i) must be a base64 string holding an encoded PNG or JPEG image")
                }
                out.append([UInt8](bytes))
            }
            return .bytes(out)
        default:
            throw ServiceError.badRequest("\(field): datatype \(datatype) is not supported (use FP32, UINT8 or BYTES)")
        }
    }

    /// Decodes binary tensor data (Triton's binary extension): little-endian elements; BYTES as
    /// a 4-byte little-endian length before each element.
    static func decodeBinary(_ bytes: ArraySlice<UInt8>, datatype: String, elements: Int, field: String) throws -> TensorData {
        switch datatype {
        case "FP32":
            guard bytes.count == elements * 4 else {
                throw ServiceError.badRequest("\(field): \(bytes.count) bytes of FP32 data for \(elements) elements (expected \(elements * 4))")
            }
            var out = [Float](repeating: 0, count: elements)
            out.withUnsafeMutableBytes { dst in bytes.withUnsafeBytes { dst.copyMemory(from: $0) } }
            for i in 0..<elements where !out[i].isFinite {
                throw ServiceError.badRequest("\(field): element \(i) is not a finite FP32 value")
            }
            return .fp32(out)
        case "UINT8":
            guard bytes.count == elements else {
                throw ServiceError.badRequest("\(field): \(bytes.count) bytes of UINT8 data for \(elements) elements")
            }
            return .uint8(Array(bytes))
        case "BYTES":
            var out: [[UInt8]] = []
            var offset = bytes.startIndex
            while offset < bytes.endIndex {
                guard bytes.endIndex - offset >= 4 else {
                    throw ServiceError.badRequest("\(field): BYTES data ends inside an element's 4-byte length")
                }
                let length = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24
                offset += 4
                guard bytes.endIndex - offset >= length else {
                    throw ServiceError.badRequest("\(field): BYTES element \(out.count) declares \(length) bytes but fewer remain")
                }
                out.append(Array(bytes[offset..<offset + length]))
                offset += length
            }
            guard out.count == elements else {
                throw ServiceError.badRequest("\(field): BYTES data holds \(out.count) elements but the shape declares \(elements)")
            }
            return .bytes(out)
        default:
            throw ServiceError.badRequest("\(field): datatype \(datatype) is not supported (use FP32, UINT8 or BYTES)")
        }
    }

    private static func flatten(_ value: Any, into out: inout [Any], limit: Int, field: String) throws {
        if let array = value as? [Any] {
            for element in array { try flatten(element, into: &out, limit: limit, field: field) }
        } else {
            guard out.count < limit else {
                throw ServiceError.badRequest("\(field): data holds more elements than the shape declares (\(limit))")
            }
            out.append(value)
        }
    }

    private static func describe(_ value: Any) -> String {
        if let s = value as? String { return "the string \"\(s.prefix(20))\"" }
        if value is NSNull { return "null" }
        if let n = value as? NSNumber, n.isJSONBoolean { return "a boolean" }
        if value is [String: Any] { return "an object" }
        return "\(value)"
    }
}
