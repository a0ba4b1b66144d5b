/// The parts of a `multipart/form-data` body (RFC 7578), for TorchServe-style uploads.
struct MultipartForm {
    struct Part {
        var name: String?
        var filename: String?
        var contentType: String?
        var body: ArraySlice<UInt8>
    }

    var parts: [Part]

    /// The boundary parameter of a `multipart/form-data` content type, or nil.
    static func boundary(fromContentType contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() where piece.lowercased().hasPrefix("boundary=") {
            var value = String(piece.dropFirst("boundary=".count))
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value.isEmpty ? nil : value
        }
        return nil
    }

    /// Splits `body` at `--boundary` lines.
    ///
    /// - Throws: `ServiceError` (400) when the body does not follow the format.
    init(body: [UInt8], boundary: String) throws {
        let delimiter = Array("--\(boundary)".utf8)
        var positions: [Int] = []
        var searchFrom = 0
        while let found = body.firstRange(of: delimiter, from: searchFrom) {
            positions.append(found)
            searchFrom = found + delimiter.count
        }
        guard positions.count >= 2 else {
            throw ServiceError.badRequest("the multipart body has no parts delimited by its boundary \"\(boundary)\"")
        }
        var parts: [Part] = []
        for (start, end) in zip(positions, positions.dropFirst()) {
            var partStart = start + delimiter.count
            // The delimiter line ends with CRLF; the part ends with CRLF before the next delimiter.
            if body[partStart..<min(partStart + 2, body.count)].elementsEqual([13, 10]) { partStart += 2 }
            var partEnd = end
            if partEnd >= 2, body[partEnd - 2] == 13, body[partEnd - 1] == 10 { partEnd -= 2 }
            guard partStart <= partEnd else { continue }
            let raw = body[partStart..<partEnd]
            guard let headerEnd = raw.firstRange(of: [13, 10, 13, 10], from: raw.startIndex) else {
                throw ServiceError.badRequest("a multipart part has no blank line after its headers")
            }
            let headerText = String(decoding: raw[raw.startIndex..<headerEnd], as: UTF8.self)
            var part = Part(body: raw[(headerEnd + 4)...])
            for line in headerText.split(separator: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let key = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                if key == "content-type" { part.contentType = value }
                if key == "content-disposition" {
                    part.name = Self.parameter("name", in: value)
                    part.filename = Self.parameter("filename", in: value)
                }
            }
            parts.append(part)
        }
        self.parts = parts
    }

    private static func parameter(_ name: String, in header: String) -> String? {
        for piece in header.split(separator: ";") {
            let item = piece.trimmingCharacters(in: .whitespaces)
            guard item.lowercased().hasPrefix("\(name)=") else { continue }
            var value = String(item.dropFirst(name.count + 1))
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }
}

extension Collection where Element == UInt8, Index == Int {
    /// The index where `needle` first occurs at or after `from`.
    func firstRange(of needle: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, count >= needle.count else { return nil }
        let first = needle[0]
        var i = Swift.max(from, startIndex)
        let last = endIndex - needle.count
        while i <= last {
            if self[i] == first {
                var j = 1
                while j < needle.count, self[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}

import Foundation
