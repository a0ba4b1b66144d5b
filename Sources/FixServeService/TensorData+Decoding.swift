import Foundation
import JSONParser

extension TensorData {
    /// Decodes the JSON `data` of an input: a flat or nested array in row-major order.
    static func decodeJSON(_ value: JSONValue, datatype: String, elements: Int, field: String) throws -> TensorData {
        switch datatype {
        case "FP32":
            // The shape is only a claim until the data is read: reserving it would let a 70-byte
            // body allocate gigabytes. Beyond this the array grows as the data arrives.
            var out: [Float] = []
            out.reserveCapacity(min(elements, 1 << 16))
            try forEachElement(of: value, limit: elements, field: field) { element, i in
                guard case .number(let number) = element else {
                    throw ServiceError.badRequest("\(field): element \(i) is \(element.summary), expected a number for FP32")
                }
                let v = Float(number)
                guard v.isFinite else { throw ServiceError.badRequest("\(field): element \(i) is not a finite FP32 value") }
                out.append(v)
            } numbers: { numbers in
                for number in numbers {
                    let v = Float(number)
                    guard v.isFinite else { throw ServiceError.badRequest("\(field): element \(out.count) is not a finite FP32 value") }
                    out.append(v)
                }
            }
            try check(out.count, elements, field)
            return .fp32(out)
        case "UINT8":
            var out: [UInt8] = []
            out.reserveCapacity(min(elements, 1 << 16))
            let byte = { (element: JSONValue, i: Int) throws -> UInt8 in
                guard let v = element.exactInt, (0...255).contains(v) else {
                    throw ServiceError.badRequest("\(field): element \(i) is \(element.summary), expected an integer 0…255 for UINT8")
                }
                return UInt8(v)
            }
            try forEachElement(of: value, limit: elements, field: field) { element, i in
                out.append(try byte(element, i))
            } numbers: { numbers in
                for number in numbers { out.append(try byte(.number(number), out.count)) }
            }
            try check(out.count, elements, field)
            return .uint8(out)
        case "BYTES":
            var out: [[UInt8]] = []
            try forEachElement(of: value, limit: elements, field: field) { element, i in
                // Encoded images cannot travel as JSON text: BYTES elements in JSON are base64.
                guard let text = element.string, let bytes = Data(base64Encoded: text) else {
                    throw ServiceError.badRequest("\(field): element \(i) must be a base64 string holding an encoded PNG or JPEG image")
                }
                out.append([UInt8](bytes))
            } numbers: { _ in
                throw ServiceError.badRequest("\(field): element \(out.count) must be a base64 string holding an encoded PNG or JPEG image")
            }
            try check(out.count, elements, field)
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

    /// Visits the scalars of a flat or nested array in row-major order; runs of numbers come
    /// whole, as the parser keeps them. Refuses more than `limit` elements as soon as they appear.
    private static func forEachElement(
        of value: JSONValue, limit: Int, field: String,
        _ scalar: (JSONValue, Int) throws -> Void, numbers: ([Double]) throws -> Void
    ) throws {
        var count = 0
        func tooMany() -> ServiceError {
            .badRequest("\(field): data holds more elements than the shape declares (\(limit))")
        }
        func visit(_ value: JSONValue) throws {
            switch value {
            case .array(let values):
                for element in values { try visit(element) }
            case .numbers(let values):
                count += values.count
                guard count <= limit else { throw tooMany() }
                try numbers(values)
            default:
                guard count < limit else { throw tooMany() }
                try scalar(value, count)
                count += 1
            }
        }
        try visit(value)
    }

    private static func check(_ count: Int, _ elements: Int, _ field: String) throws {
        guard count == elements else {
            throw ServiceError.badRequest("\(field): data holds \(count) elements but the shape declares \(elements)")
        }
    }
}
