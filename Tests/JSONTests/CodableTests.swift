import Foundation
import JSON
import Testing

@Suite("JSON value through Codable")
struct CodableTests {
    @Test("JSONDecoder's values: members sorted by key, integers apart from floats, a round trip that keeps them")
    func roundTrip() throws {
        let text = #"{"b": 1, "a": [1.5, true, null, "x", 18446744073709551615, -9223372036854775808], "c": {}}"#
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(value.members?.map(\.key) == ["a", "b", "c"])
        #expect(value["b"]?.integer == 1)
        let items = try #require(value["a"]?.array)
        #expect(items[0] == .number(JSONNumber(text: "1.5", isInteger: false)))
        #expect(items[1] == .bool(true) && items[2] == .null && items[3] == .string("x"))
        #expect(items[4] == .number(JSONNumber(text: "18446744073709551615", isInteger: true)))
        #expect(items[5].integer == Int.min)
        let again = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
        #expect(again == value)
        // The reader gives the same value, in the document's order.
        let read = try JSONValue(parsing: Array(text.utf8))
        #expect(read.members?.map(\.key) == ["b", "a", "c"])
        #expect(read["a"] == value["a"])
    }
}
