// Package importrules holds the import rules of the module (the table in
// docs/architecture.md, "Packages") and checks a module's packages against
// them. Its one caller is its own test, which runs `go list -deps -json`
// over the whole module, so one table and one check cover every package
// instead of a deps_test.go copy per package.
//
// It imports no package of ours and is imported by none: the agent never
// ships it (it runs the go command).
package importrules
