/// The open streams of an HTTP/2 session by stream id: open addressing with linear probing.
/// Client stream ids are odd and increasing, so `id >> 1` already spreads them over the slots;
/// a `Dictionary`'s seeded hash on every lookup was a measurable share of a small request.
struct StreamTable<Value: AnyObject> {
    private struct Slot {
        var id: Int32
        // nil marks an empty slot.
        var value: Value?
    }

    private var slots: [Slot]
    private var mask: Int
    private(set) var count = 0

    init() {
        slots = Array(repeating: Slot(id: 0, value: nil), count: 16)
        mask = 15
    }

    var isEmpty: Bool { count == 0 }

    /// Every stored value, in no particular order.
    var values: [Value] { slots.compactMap(\.value) }

    subscript(id: Int32) -> Value? {
        get {
            var index = home(id)
            while let value = slots[index].value {
                if slots[index].id == id { return value }
                index = (index + 1) & mask
            }
            return nil
        }
        set {
            guard let newValue else {
                removeValue(forKey: id)
                return
            }
            var index = home(id)
            while slots[index].value != nil {
                if slots[index].id == id {
                    slots[index].value = newValue
                    return
                }
                index = (index + 1) & mask
            }
            slots[index] = Slot(id: id, value: newValue)
            count += 1
            // At most half full keeps probe runs short.
            if count * 2 > slots.count { grow() }
        }
    }

    @discardableResult
    mutating func removeValue(forKey id: Int32) -> Value? {
        var hole = home(id)
        while slots[hole].id != id || slots[hole].value == nil {
            if slots[hole].value == nil { return nil }
            hole = (hole + 1) & mask
        }
        let removed = slots[hole].value
        // Backward-shift deletion: later entries of the run move into the hole when their home
        // slot does not lie between the hole and them, so lookups never need tombstones.
        var probe = (hole + 1) & mask
        while let value = slots[probe].value {
            let distanceFromHome = (probe - home(slots[probe].id)) & mask
            if distanceFromHome >= (probe - hole) & mask {
                slots[hole] = Slot(id: slots[probe].id, value: value)
                hole = probe
            }
            probe = (probe + 1) & mask
        }
        slots[hole] = Slot(id: 0, value: nil)
        count -= 1
        return removed
    }

    mutating func removeAll() {
        for index in slots.indices { slots[index] = Slot(id: 0, value: nil) }
        count = 0
    }

    private func home(_ id: Int32) -> Int {
        Int(id >> 1) & mask
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: Slot(id: 0, value: nil), count: old.count * 2)
        mask = slots.count - 1
        count = 0
        for slot in old {
            if let value = slot.value { self[slot.id] = value }
        }
    }
}
