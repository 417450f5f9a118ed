# Sourced by the CI and release scripts: the Go toolchain they build and
# test with. go.mod asks for Go 1.26 (any 1.26 builds the project), but
# go1.26.8 carries standard-library vulnerabilities govulncheck reports
# (crypto/tls, crypto/x509, net/http: fixed in 1.26.9/1.26.10); the newest
# toolchain the module proxy serves here is go1.27.3, which the go command
# fetches by itself (about 76 MB, once). Set GOTOOLCHAIN to override.
export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.27.3}"
