// Package util: see ../../go.mod.
package util

// IgnoreListEntry is a path kaniko leaves out of snapshots.
type IgnoreListEntry struct {
	Path            string
	PrefixMatchOnly bool
}

var ignoreList []IgnoreListEntry

// AddToDefaultIgnoreList records an entry.
func AddToDefaultIgnoreList(entry IgnoreListEntry) { ignoreList = append(ignoreList, entry) }
