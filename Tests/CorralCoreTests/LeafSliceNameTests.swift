import Testing
@testable import CorralCore

/// A server's leaf slice: named by its scope's id, nested in the configured slice, described so gc can read it back.
struct LeafSliceNameTests {
    @Test(arguments: [
        ("corral-time-1a2b3c4d.scope", "corral.slice", "corral-1a2b3c4d.slice"),
        ("corral-mcp\\x2dserver-0000beef.scope", "tools-corral.slice", "tools-corral-0000beef.slice"),
        ("corral-time-1a2b3c4d.scope", "-.slice", "1a2b3c4d.slice"),
    ])
    func aLeafNestsInItsSliceByTheScopesID(scope: String, slice: String, leaf: String) {
        #expect(SliceName.leaf(of: scope, in: slice) == leaf)
    }

    @Test(arguments: ["corral-time.scope", "corral-time-1a2b3c4g.scope", "corral-time-1a2b3c4d.service", "1a2b3c4d.scope"])
    func aNameWithoutAScopeIDHasNoLeaf(scope: String) {
        #expect(SliceName.leaf(of: scope, in: "corral.slice") == nil)
    }

    @Test func theDescriptionNamesTheScopeAndTheMonitor() {
        let scope = "corral-a\\x2cb-1a2b3c4d.scope"
        let leaf = SliceName.leaf(described: SliceName.leafDescription(of: scope, monitor: 4242))
        #expect(leaf?.scope == scope && leaf?.monitor == 4242)
        #expect(SliceName.leaf(described: "Corral: all MCP servers together") == nil)
        #expect(SliceName.leaf(described: "Corral: the counters of x, watched by process me") == nil)
    }
}
