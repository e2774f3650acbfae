// Command tollgate is the command line of the Tollgate policy engine.
//
//	tollgate demo [-o json]                     the built-in demo organisation
//	tollgate eval BUNDLE [-o json]              the same report for a bundle
//	tollgate check FILE|DIR...                  run conformance scenarios
//	tollgate serve BUNDLE [--addr 127.0.0.1:8080]  the REST API over a bundle
//	tollgate impact POLICY --bundle BUNDLE      dry-run a policy
//	tollgate decide BUNDLE --user ID --data-source ID  one decision with reasons
//
// Every command takes --help. The exit status is 0 on success, 1 when a scenario
// failed (check) or access is denied (decide), and 2 on bad usage or unreadable
// input. A BUNDLE is a scenario-format file (docs/scenarios.md; its steps run after
// setup, its expect is ignored) or a directory of fragments (see
// scenario.LoadBundle). The demo bundle is embedded in the binary (demo.yaml).
package main
