package stack

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Server timeouts. ReadHeaderTimeout and ReadTimeout cut a client that
// sends its request slowly (a slow-body POST to /local/dynamodb held a
// handler forever); they bound the arrival of a request, not its service,
// so an upgrade that waits for $connect is unaffected, and net/http clears
// the deadlines of a connection it hands over to the WebSocket. No
// WriteTimeout: a WebSocket upgrade's answer waits for the authorizer and
// $connect. IdleTimeout outlasts the handlers' pooled connections' own
// (clients.go), so the server never closes one the client is about to
// reuse.
const (
	readHeaderTimeout  = 10 * time.Second
	defaultReadTimeout = 30 * time.Second
	idleTimeout        = 2 * time.Minute
)

// newServer is the stack's HTTP server: its timeouts, and the guard that
// keeps browsers on other sites out (see guard).
func (s *Stack) newServer(h http.Handler) *http.Server {
	rt := s.opts.ReadTimeout
	if rt <= 0 {
		rt = defaultReadTimeout
	}
	return &http.Server{
		Handler:           s.guard(h),
		ReadHeaderTimeout: min(readHeaderTimeout, rt),
		ReadTimeout:       rt,
		IdleTimeout:       idleTimeout,
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				s.accepted.Add(1)
			}
		},
	}
}

// guard protects the local endpoints from web pages. Every request must
// name this stack in its Host header: its listen address, localhost (or a
// name under .localhost) or a loopback address. That stops DNS rebinding,
// where a page on any site re-points its own name at 127.0.0.1 and reads
// and writes the local stack as if it were its own origin. And the
// local-only endpoints, /local/* (DynamoDB, tokens, metrics, the OIDC
// endpoints) and the Management API (/@connections/*, which would let a
// page push a forged agent frame to a customer), refuse requests a browser
// makes for another site: an Origin header that is not this stack, or
// Sec-Fetch-Site cross-site (top-level navigations aside, which can
// neither read the answer nor send a body). They never answer with CORS
// headers. The WebSocket API at /ws takes any Origin, as API Gateway does:
// the widget is embedded on other sites. Requests without these headers
// (the handlers' SDK clients, curl, the AWS CLI) are not browsers' and pass.
func (s *Stack) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.ownHost(r.Host) {
			s.log.Warn("request refused: Host is not this local stack", "host", r.Host, "path", r.URL.Path, "remoteAddr", r.RemoteAddr)
			http.Error(w, "403 Forbidden: the Host header "+quote(r.Host)+" does not name this local stack; use its listen address, localhost or a loopback address (docs/protocol.md section 7)", http.StatusForbidden)
			return
		}
		if localOnly(r.URL.Path) {
			if reason := s.crossSite(r); reason != "" {
				s.log.Warn("request refused: cross-site browser request to a local-only endpoint", "path", r.URL.Path, "reason", reason, "remoteAddr", r.RemoteAddr)
				http.Error(w, "403 Forbidden: "+reason+"; the local stack's "+r.URL.Path+" serves its own pages and local tools only (docs/protocol.md section 7)", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// localOnly reports the paths browsers on other sites must not reach.
func localOnly(path string) bool {
	return path == "/local" || strings.HasPrefix(path, "/local/") || strings.Contains(path, "/@connections")
}

// ownHost reports whether host (a Host header, host[:port]) names this
// stack.
func (s *Stack) ownHost(host string) bool {
	if host == "" {
		return true // HTTP/1.0 without Host: no browser sends that
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.ToLower(strings.Trim(name, "[]")), ".")
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(name)
	if err != nil {
		return false // a DNS name other than localhost: what rebinding uses
	}
	ip = ip.Unmap()
	if ip.IsLoopback() {
		return true
	}
	listen := s.listenAddr()
	if listen.IsUnspecified() {
		// Bound to every interface (with the warning of warnIfExposed):
		// the machine's own addresses reach it, and an address literal
		// cannot be rebound.
		return true
	}
	return ip == listen
}

// listenAddr is the IP the stack listens on.
func (s *Stack) listenAddr() netip.Addr {
	if s.listener == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(s.listener.Addr().String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// crossSite says why r is a browser's request from another site, or "".
func (s *Stack) crossSite(r *http.Request) string {
	if origin := r.Header.Get("Origin"); origin != "" {
		if !s.ownOrigin(origin, r.Host) {
			return "the request comes from the page of another origin, " + quote(origin)
		}
		return ""
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		navigation := r.Header.Get("Sec-Fetch-Mode") == "navigate" && (r.Method == http.MethodGet || r.Method == http.MethodHead)
		if !navigation {
			return "the request comes from a page of another site (Sec-Fetch-Site: cross-site)"
		}
	}
	return ""
}

// ownOrigin reports whether a browser's Origin is a page of this stack:
// scheme http or https, a host that names the stack and the port the
// request was sent to (localhost and 127.0.0.1 are both this stack).
func (s *Stack) ownOrigin(origin, requestHost string) bool {
	scheme, hostport, ok := strings.Cut(origin, "://")
	if !ok || (scheme != "http" && scheme != "https") || strings.ContainsAny(hostport, "/?#@") {
		return false // "null" (a sandboxed frame, a file) and anything malformed
	}
	if !s.ownHost(hostport) {
		return false
	}
	return portOf(hostport, scheme) == portOf(requestHost, "http")
}

func portOf(hostport, scheme string) string {
	if _, p, err := net.SplitHostPort(hostport); err == nil {
		return p
	}
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// warnIfExposed logs loudly when the stack listens beyond loopback: it has
// no authentication of its own, so anyone who reaches it can read and
// write every table, mint tokens and post to any connection.
func (s *Stack) warnIfExposed() {
	if ip := s.listenAddr(); ip.IsValid() && !ip.IsLoopback() {
		s.log.Warn("WARNING: the local stack listens beyond loopback; anyone who can reach "+s.listener.Addr().String()+
			" can read and write every table, mint tokens and post to any connection. Use --addr 127.0.0.1:8080 unless you mean it.",
			"addr", s.listener.Addr().String())
	}
}
