// Package browsertest drives perfbot demo's web view in headless Chromium (Debian's chromium
// package, which scripts/stack up installs) through the whole walk a visitor takes: a fault from
// the panel, an assessment with its table and charts, an incident, a scale approved by a second
// person, a pin, the postmortem canvas, a permalink and a 900 px window. It saves a screenshot of
// each step to .demo-screens/ at the repository root (PERFBOT_SCREENS overrides it).
package browsertest
