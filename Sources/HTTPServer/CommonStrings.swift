/// Field names and methods most requests carry, returned as string literals: a literal costs no
/// UTF-8 validation, no allocation and no reference counting, unlike a `String` decoded from the
/// bytes of every request.
enum CommonStrings {
    /// The literal for a lowercase field name, or nil when it is not a common one.
    static func fieldName(_ bytes: UnsafeRawBufferPointer) -> String? {
        switch bytes.count {
        case 4: return match(bytes, "host")
        case 6: return match(bytes, "accept") ?? match(bytes, "cookie")
        case 10: return match(bytes, "user-agent")
        case 12: return match(bytes, "content-type")
        case 13: return match(bytes, "authorization") ?? match(bytes, "cache-control")
        case 14: return match(bytes, "content-length")
        case 15: return match(bytes, "accept-encoding") ?? match(bytes, "accept-language")
        default: return nil
        }
    }

    /// The literal for a standard method, or nil.
    static func method(_ bytes: UnsafeRawBufferPointer) -> String? {
        switch bytes.count {
        case 3: return match(bytes, "GET") ?? match(bytes, "PUT")
        case 4: return match(bytes, "POST") ?? match(bytes, "HEAD")
        case 5: return match(bytes, "PATCH")
        case 6: return match(bytes, "DELETE")
        case 7: return match(bytes, "OPTIONS")
        default: return nil
        }
    }

    /// `literal` if `bytes` (of the same length) spell it.
    private static func match(_ bytes: UnsafeRawBufferPointer, _ literal: String) -> String? {
        // Literals are contiguous UTF-8; a byte loop over both buffers avoids both the generic
        // sequence walk and a call to memcmp for a few bytes.
        let equal = literal.utf8.withContiguousStorageIfAvailable { utf8 in
            for index in 0..<bytes.count where bytes[index] != utf8[index] { return false }
            return true
        } ?? bytes.elementsEqual(literal.utf8)
        return equal ? literal : nil
    }
}
