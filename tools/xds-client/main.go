// xds-client: a test tool that connects to istiod's plaintext ADS port on loopback,
// poses as one proxy (a sidecar or the federation gateway), subscribes to CDS, EDS, LDS,
// RDS and PCDS (Istio's trust bundle), and prints ONE JSON document summarising what
// istiod sent, then exits. It is test tooling only (tools/e2e/istiod.ts runs it); the
// product stays TypeScript.
//
//	xds-client --addr 127.0.0.1:15010 --type sidecar --ip 10.1.0.5 --pod sleep-1 \
//	  --namespace sleep --domain cluster-a.local --cluster-id cluster-a --timeout 20s
//
// Exit status: 0 with every wanted type received, 2 when the deadline passed first
// (the JSON then says what is missing), 1 for usage or connection errors.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxy "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	matcher "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"
	mesh "istio.io/api/mesh/v1alpha1"
)

const (
	typeCDS  = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	typeEDS  = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
	typeLDS  = "type.googleapis.com/envoy.config.listener.v3.Listener"
	typeRDS  = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
	typePCDS = "type.googleapis.com/istio.mesh.v1alpha1.ProxyConfig"
)

var shortType = map[string]string{typeCDS: "cds", typeEDS: "eds", typeLDS: "lds", typeRDS: "rds", typePCDS: "pcds"}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type options struct {
	addr, proxyType, ip, pod, namespace, domain, clusterID, network, istioVersion string
	labels, meta                                                                  multiFlag
	types                                                                         map[string]bool
	timeout                                                                       time.Duration
}

// ---------------------------------------------------------------- output document

type Summary struct {
	Node      string               `json:"node"`
	Complete  bool                 `json:"complete"`
	Missing   []string             `json:"missing,omitempty"`
	Versions  map[string]string    `json:"versions"`
	Clusters  []ClusterSummary     `json:"clusters"`
	Listeners []ListenerSummary    `json:"listeners"`
	Routes    []RouteConfigSummary `json:"routes"`
	Trust     *TrustBundle         `json:"trustBundle,omitempty"`
}

type Endpoint struct {
	Address string            `json:"address"`
	Port    uint32            `json:"port"`
	Health  string            `json:"health,omitempty"`
	Labels  map[string]string `json:"metadata,omitempty"`
}

type TLSSummary struct {
	Match           map[string]string `json:"match,omitempty"`
	Name            string            `json:"name"`
	SNI             string            `json:"sni,omitempty"`
	ALPN            []string          `json:"alpn,omitempty"`
	CertificateSDS  []string          `json:"certificateSds,omitempty"`
	ValidationSDS   string            `json:"validationSds,omitempty"`
	SANMatchers     []string          `json:"sanMatchers"`
	TrustedCAInline bool              `json:"trustedCaInline,omitempty"`
}

type ClusterSummary struct {
	Name           string       `json:"name"`
	Type           string       `json:"type"`
	EDSServiceName string       `json:"edsServiceName,omitempty"`
	Endpoints      []Endpoint   `json:"endpoints"`
	TransportSocks []TLSSummary `json:"transportSockets"`
}

type FilterChainSummary struct {
	Name              string   `json:"name,omitempty"`
	ServerNames       []string `json:"serverNames,omitempty"`
	TransportProtocol string   `json:"transportProtocol,omitempty"`
	DestinationPort   uint32   `json:"destinationPort,omitempty"`
	Filters           []string `json:"filters"`
	Clusters          []string `json:"clusters,omitempty"`
	RouteConfig       string   `json:"routeConfig,omitempty"`
	DownstreamTLS     bool     `json:"downstreamTls,omitempty"`
}

type ListenerSummary struct {
	Name         string               `json:"name"`
	Address      string               `json:"address"`
	Port         uint32               `json:"port"`
	UseOriginal  bool                 `json:"useOriginalDst,omitempty"`
	FilterChains []FilterChainSummary `json:"filterChains"`
}

type VirtualHostSummary struct {
	Name     string   `json:"name"`
	Domains  []string `json:"domains"`
	Clusters []string `json:"clusters"`
}

type RouteConfigSummary struct {
	Name         string               `json:"name"`
	VirtualHosts []VirtualHostSummary `json:"virtualHosts"`
}

type TrustBundle struct {
	CACertificatesPEM []string `json:"caCertificatesPem"`
}

// ---------------------------------------------------------------- main

func main() {
	opts, err := parseFlags()
	if err != nil {
		fmt.Fprintf(os.Stderr, "xds-client: %v\n", err)
		os.Exit(1)
	}
	summary, err := run(opts)
	if summary != nil {
		out, jerr := json.MarshalIndent(summary, "", "  ")
		if jerr != nil {
			fmt.Fprintf(os.Stderr, "xds-client: %v\n", jerr)
			os.Exit(1)
		}
		fmt.Println(string(out))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "xds-client: %v\n", err)
		if summary != nil {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func parseFlags() (*options, error) {
	o := &options{}
	var types string
	flag.StringVar(&o.addr, "addr", "", "istiod plaintext ADS address (loopback only), e.g. 127.0.0.1:15010")
	flag.StringVar(&o.proxyType, "type", "sidecar", "sidecar or router")
	flag.StringVar(&o.ip, "ip", "10.0.0.10", "the proxy's IP (node id and INSTANCE_IPS)")
	flag.StringVar(&o.pod, "pod", "test-proxy", "pod name")
	flag.StringVar(&o.namespace, "namespace", "default", "pod namespace")
	flag.StringVar(&o.domain, "domain", "cluster.local", "cluster domain")
	flag.StringVar(&o.clusterID, "cluster-id", "Kubernetes", "CLUSTER_ID metadata (istiod's cluster ID)")
	flag.StringVar(&o.network, "network", "", "NETWORK metadata (optional)")
	flag.StringVar(&o.istioVersion, "istio-version", "1.31.0", "ISTIO_VERSION metadata")
	flag.Var(&o.labels, "label", "workload label key=value (repeatable)")
	flag.Var(&o.meta, "meta", "extra string metadata KEY=value (repeatable)")
	flag.StringVar(&types, "types", "cds,eds,lds,rds,pcds", "what to wait for")
	flag.DurationVar(&o.timeout, "timeout", 20*time.Second, "overall deadline")
	flag.Parse()
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		return nil, fmt.Errorf("--addr %q: %v", o.addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("--addr %q: only loopback addresses are allowed", o.addr)
	}
	if o.proxyType != "sidecar" && o.proxyType != "router" {
		return nil, fmt.Errorf("--type must be sidecar or router, not %q", o.proxyType)
	}
	o.types = map[string]bool{}
	for _, t := range strings.Split(types, ",") {
		t = strings.TrimSpace(t)
		switch t {
		case "cds", "eds", "lds", "rds", "pcds":
			o.types[t] = true
		case "":
		default:
			return nil, fmt.Errorf("--types: unknown type %q", t)
		}
	}
	if o.timeout <= 0 || o.timeout > 10*time.Minute {
		return nil, fmt.Errorf("--timeout must be in (0, 10m]")
	}
	return o, nil
}

func keyValues(list []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not key=value", kv)
		}
		out[k] = v
	}
	return out, nil
}

func node(o *options) (*core.Node, error) {
	labels, err := keyValues(o.labels)
	if err != nil {
		return nil, err
	}
	extra, err := keyValues(o.meta)
	if err != nil {
		return nil, err
	}
	fields := map[string]any{
		"CLUSTER_ID":    o.clusterID,
		"NAMESPACE":     o.namespace,
		"ISTIO_VERSION": o.istioVersion,
		"INSTANCE_IPS":  o.ip,
		"NAME":          o.pod,
		"POD_NAME":      o.pod,
	}
	if o.network != "" {
		fields["NETWORK"] = o.network
	}
	if len(labels) > 0 {
		l := map[string]any{}
		for k, v := range labels {
			l[k] = v
		}
		fields["LABELS"] = l
	}
	for k, v := range extra {
		fields[k] = v
	}
	md, err := structpb.NewStruct(fields)
	if err != nil {
		return nil, err
	}
	id := fmt.Sprintf("%s~%s~%s.%s~%s.svc.%s", o.proxyType, o.ip, o.pod, o.namespace, o.namespace, o.domain)
	return &core.Node{Id: id, Metadata: md}, nil
}

// ---------------------------------------------------------------- the ADS exchange

type state struct {
	opts      *options
	summary   *Summary
	received  map[string]bool
	clusters  map[string]*cluster.Cluster
	cla       map[string]*endpoint.ClusterLoadAssignment
	listeners map[string]*listener.Listener
	routes    map[string]*route.RouteConfiguration
	edsNames  []string
	rdsNames  []string
}

func run(o *options) (*Summary, error) {
	n, err := node(o)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	conn, err := grpc.NewClient(o.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256*1024*1024)))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stream, err := discovery.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return nil, fmt.Errorf("ADS stream to %s: %v", o.addr, err)
	}
	s := &state{
		opts:      o,
		summary:   &Summary{Node: n.Id, Versions: map[string]string{}},
		received:  map[string]bool{},
		clusters:  map[string]*cluster.Cluster{},
		cla:       map[string]*endpoint.ClusterLoadAssignment{},
		listeners: map[string]*listener.Listener{},
		routes:    map[string]*route.RouteConfiguration{},
	}
	send := func(typeURL string, names []string, version, nonce string) error {
		return stream.Send(&discovery.DiscoveryRequest{Node: n, TypeUrl: typeURL, ResourceNames: names, VersionInfo: version, ResponseNonce: nonce})
	}
	// Wildcard subscriptions first, as Envoy does (CDS and LDS), plus PCDS.
	for _, t := range []string{typeCDS, typeLDS, typePCDS} {
		if t == typeCDS && !(o.types["cds"] || o.types["eds"]) {
			continue
		}
		if t == typeLDS && !(o.types["lds"] || o.types["rds"]) {
			continue
		}
		if t == typePCDS && !o.types["pcds"] {
			continue
		}
		if err := send(t, nil, "", ""); err != nil {
			return nil, err
		}
	}
	var runErr error
	for !s.done() {
		resp, err := stream.Recv()
		if err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				runErr = fmt.Errorf("deadline of %s passed before everything arrived", o.timeout)
			} else {
				runErr = fmt.Errorf("ADS stream: %v", err)
			}
			break
		}
		if err := s.accept(resp); err != nil {
			runErr = err
			break
		}
		// ACK (the same version and nonce); for CDS and LDS also subscribe to what they name.
		names := []string(nil)
		switch resp.TypeUrl {
		case typeEDS:
			names = s.edsNames
		case typeRDS:
			names = s.rdsNames
		}
		if err := send(resp.TypeUrl, names, resp.VersionInfo, resp.Nonce); err != nil {
			runErr = err
			break
		}
		if resp.TypeUrl == typeCDS && o.types["eds"] && !s.received["eds"] {
			if len(s.edsNames) == 0 {
				s.received["eds"] = true
			} else if err := send(typeEDS, s.edsNames, "", ""); err != nil {
				runErr = err
				break
			}
		}
		if resp.TypeUrl == typeLDS && o.types["rds"] && !s.received["rds"] {
			if len(s.rdsNames) == 0 {
				s.received["rds"] = true
			} else if err := send(typeRDS, s.rdsNames, "", ""); err != nil {
				runErr = err
				break
			}
		}
	}
	s.finish()
	return s.summary, runErr
}

func (s *state) done() bool {
	for t := range s.opts.types {
		if !s.received[t] {
			return false
		}
	}
	return true
}

func (s *state) accept(resp *discovery.DiscoveryResponse) error {
	short, known := shortType[resp.TypeUrl]
	if !known {
		return nil
	}
	s.summary.Versions[short] = resp.VersionInfo
	for _, r := range resp.Resources {
		switch resp.TypeUrl {
		case typeCDS:
			c := &cluster.Cluster{}
			if err := r.UnmarshalTo(c); err != nil {
				return fmt.Errorf("cds: %v", err)
			}
			s.clusters[c.Name] = c
		case typeEDS:
			c := &endpoint.ClusterLoadAssignment{}
			if err := r.UnmarshalTo(c); err != nil {
				return fmt.Errorf("eds: %v", err)
			}
			s.cla[c.ClusterName] = c
		case typeLDS:
			l := &listener.Listener{}
			if err := r.UnmarshalTo(l); err != nil {
				return fmt.Errorf("lds: %v", err)
			}
			s.listeners[l.Name] = l
		case typeRDS:
			rc := &route.RouteConfiguration{}
			if err := r.UnmarshalTo(rc); err != nil {
				return fmt.Errorf("rds: %v", err)
			}
			s.routes[rc.Name] = rc
		case typePCDS:
			pc := &mesh.ProxyConfig{}
			if err := r.UnmarshalTo(pc); err != nil {
				return fmt.Errorf("pcds: %v", err)
			}
			s.summary.Trust = &TrustBundle{CACertificatesPEM: pc.CaCertificatesPem}
		}
	}
	switch resp.TypeUrl {
	case typeCDS:
		s.edsNames = nil
		for _, c := range s.clusters {
			if c.GetType() == cluster.Cluster_EDS {
				s.edsNames = append(s.edsNames, edsName(c))
			}
		}
		sort.Strings(s.edsNames)
	case typeLDS:
		seen := map[string]bool{}
		s.rdsNames = nil
		for _, l := range s.listeners {
			for _, fc := range allChains(l) {
				for _, f := range fc.Filters {
					if h := httpManager(f); h != nil && h.GetRds() != nil && !seen[h.GetRds().RouteConfigName] {
						seen[h.GetRds().RouteConfigName] = true
						s.rdsNames = append(s.rdsNames, h.GetRds().RouteConfigName)
					}
				}
			}
		}
		sort.Strings(s.rdsNames)
	}
	s.received[short] = true
	return nil
}

func edsName(c *cluster.Cluster) string {
	if n := c.GetEdsClusterConfig().GetServiceName(); n != "" {
		return n
	}
	return c.Name
}

func allChains(l *listener.Listener) []*listener.FilterChain {
	chains := append([]*listener.FilterChain{}, l.FilterChains...)
	if l.DefaultFilterChain != nil {
		chains = append(chains, l.DefaultFilterChain)
	}
	return chains
}

func httpManager(f *listener.Filter) *hcm.HttpConnectionManager {
	if tc := f.GetTypedConfig(); tc != nil && tc.TypeUrl == "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager" {
		h := &hcm.HttpConnectionManager{}
		if tc.UnmarshalTo(h) == nil {
			return h
		}
	}
	return nil
}

// ---------------------------------------------------------------- summarising

func (s *state) finish() {
	sum := s.summary
	for t := range s.opts.types {
		if !s.received[t] {
			sum.Missing = append(sum.Missing, t)
		}
	}
	sort.Strings(sum.Missing)
	sum.Complete = len(sum.Missing) == 0
	sum.Clusters = []ClusterSummary{}
	for _, name := range sortedKeys(s.clusters) {
		sum.Clusters = append(sum.Clusters, s.summariseCluster(s.clusters[name]))
	}
	sum.Listeners = []ListenerSummary{}
	for _, name := range sortedKeys(s.listeners) {
		sum.Listeners = append(sum.Listeners, summariseListener(s.listeners[name]))
	}
	sum.Routes = []RouteConfigSummary{}
	for _, name := range sortedKeys(s.routes) {
		sum.Routes = append(sum.Routes, summariseRoutes(s.routes[name]))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func endpointsOf(cla *endpoint.ClusterLoadAssignment) []Endpoint {
	out := []Endpoint{}
	for _, le := range cla.GetEndpoints() {
		for _, lb := range le.LbEndpoints {
			sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
			if sa == nil {
				continue
			}
			e := Endpoint{Address: sa.Address, Port: sa.GetPortValue()}
			if lb.HealthStatus != core.HealthStatus_UNKNOWN {
				e.Health = lb.HealthStatus.String()
			}
			if istio := lb.GetMetadata().GetFilterMetadata()["istio"]; istio != nil {
				e.Labels = map[string]string{}
				for k, v := range istio.Fields {
					if sv, ok := v.Kind.(*structpb.Value_StringValue); ok {
						e.Labels[k] = sv.StringValue
					}
				}
			}
			if tm := lb.GetMetadata().GetFilterMetadata()["envoy.transport_socket_match"]; tm != nil {
				if e.Labels == nil {
					e.Labels = map[string]string{}
				}
				for k, v := range tm.Fields {
					if sv, ok := v.Kind.(*structpb.Value_StringValue); ok {
						e.Labels["transport_socket_match."+k] = sv.StringValue
					}
				}
			}
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Address < out[j].Address || (out[i].Address == out[j].Address && out[i].Port < out[j].Port)
	})
	return out
}

func (s *state) summariseCluster(c *cluster.Cluster) ClusterSummary {
	cs := ClusterSummary{Name: c.Name, Type: c.GetType().String(), Endpoints: []Endpoint{}, TransportSocks: []TLSSummary{}}
	if c.GetClusterType() != nil {
		cs.Type = c.GetClusterType().Name
	}
	if c.GetType() == cluster.Cluster_EDS {
		cs.EDSServiceName = edsName(c)
		if cla, ok := s.cla[cs.EDSServiceName]; ok {
			cs.Endpoints = endpointsOf(cla)
		}
	} else if c.LoadAssignment != nil {
		cs.Endpoints = endpointsOf(c.LoadAssignment)
	}
	if ts := c.GetTransportSocket(); ts != nil {
		cs.TransportSocks = append(cs.TransportSocks, summariseSocket(nil, ts))
	}
	for _, m := range c.TransportSocketMatches {
		match := map[string]string{"name": m.Name}
		for k, v := range m.GetMatch().GetFields() {
			match[k] = v.GetStringValue()
		}
		cs.TransportSocks = append(cs.TransportSocks, summariseSocket(match, m.TransportSocket))
	}
	return cs
}

func summariseSocket(match map[string]string, ts *core.TransportSocket) TLSSummary {
	out := TLSSummary{Match: match, Name: ts.GetName(), SANMatchers: []string{}}
	tc := ts.GetTypedConfig()
	if tc == nil || tc.TypeUrl != "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext" {
		return out
	}
	up := &tlsv3.UpstreamTlsContext{}
	if tc.UnmarshalTo(up) != nil {
		return out
	}
	out.SNI = up.Sni
	common := up.GetCommonTlsContext()
	out.ALPN = common.GetAlpnProtocols()
	for _, sds := range common.GetTlsCertificateSdsSecretConfigs() {
		out.CertificateSDS = append(out.CertificateSDS, sds.Name)
	}
	var vc *tlsv3.CertificateValidationContext
	switch v := common.GetValidationContextType().(type) {
	case *tlsv3.CommonTlsContext_CombinedValidationContext:
		vc = v.CombinedValidationContext.GetDefaultValidationContext()
		out.ValidationSDS = v.CombinedValidationContext.GetValidationContextSdsSecretConfig().GetName()
	case *tlsv3.CommonTlsContext_ValidationContextSdsSecretConfig:
		out.ValidationSDS = v.ValidationContextSdsSecretConfig.GetName()
	case *tlsv3.CommonTlsContext_ValidationContext:
		vc = v.ValidationContext
	}
	if vc != nil {
		out.TrustedCAInline = vc.GetTrustedCa() != nil
		for _, m := range vc.GetMatchTypedSubjectAltNames() {
			out.SANMatchers = append(out.SANMatchers, describeMatcher(m.GetSanType().String(), m.GetMatcher()))
		}
		//nolint:staticcheck // the deprecated field is still what older configs use
		for _, m := range vc.GetMatchSubjectAltNames() {
			out.SANMatchers = append(out.SANMatchers, describeMatcher("ANY", m))
		}
	}
	sort.Strings(out.SANMatchers)
	return out
}

// describeMatcher renders a string matcher as "<SAN type> <kind>:<value>", e.g. "URI exact:spiffe://...".
func describeMatcher(sanType string, m *matcher.StringMatcher) string {
	switch p := m.GetMatchPattern().(type) {
	case *matcher.StringMatcher_Exact:
		return sanType + " exact:" + p.Exact
	case *matcher.StringMatcher_Prefix:
		return sanType + " prefix:" + p.Prefix
	case *matcher.StringMatcher_Suffix:
		return sanType + " suffix:" + p.Suffix
	case *matcher.StringMatcher_SafeRegex:
		return sanType + " regex:" + p.SafeRegex.GetRegex()
	case *matcher.StringMatcher_Contains:
		return sanType + " contains:" + p.Contains
	}
	return sanType + " " + m.String()
}

func summariseListener(l *listener.Listener) ListenerSummary {
	ls := ListenerSummary{Name: l.Name, FilterChains: []FilterChainSummary{}}
	if sa := l.GetAddress().GetSocketAddress(); sa != nil {
		ls.Address, ls.Port = sa.Address, sa.GetPortValue()
	}
	ls.UseOriginal = l.GetUseOriginalDst().GetValue()
	for _, fc := range allChains(l) {
		f := FilterChainSummary{Name: fc.Name, Filters: []string{}}
		if m := fc.GetFilterChainMatch(); m != nil {
			f.ServerNames = m.ServerNames
			f.TransportProtocol = m.TransportProtocol
			f.DestinationPort = m.GetDestinationPort().GetValue()
		}
		f.DownstreamTLS = fc.GetTransportSocket() != nil
		for _, filter := range fc.Filters {
			f.Filters = append(f.Filters, filter.Name)
			if h := httpManager(filter); h != nil {
				if h.GetRds() != nil {
					f.RouteConfig = h.GetRds().RouteConfigName
				} else if rc := h.GetRouteConfig(); rc != nil {
					f.RouteConfig = "(inline) " + rc.Name
					for _, vh := range rc.VirtualHosts {
						f.Clusters = append(f.Clusters, routeClusters(vh)...)
					}
				}
				continue
			}
			if tc := filter.GetTypedConfig(); tc != nil && tc.TypeUrl == "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy" {
				tp := &tcpproxy.TcpProxy{}
				if tc.UnmarshalTo(tp) == nil {
					if c := tp.GetCluster(); c != "" {
						f.Clusters = append(f.Clusters, c)
					}
					for _, w := range tp.GetWeightedClusters().GetClusters() {
						f.Clusters = append(f.Clusters, w.Name)
					}
				}
			}
		}
		ls.FilterChains = append(ls.FilterChains, f)
	}
	return ls
}

func routeClusters(vh *route.VirtualHost) []string {
	out := []string{}
	for _, r := range vh.Routes {
		a := r.GetRoute()
		if a == nil {
			continue
		}
		if c := a.GetCluster(); c != "" {
			out = append(out, c)
		}
		for _, w := range a.GetWeightedClusters().GetClusters() {
			out = append(out, w.Name)
		}
	}
	return out
}

func summariseRoutes(rc *route.RouteConfiguration) RouteConfigSummary {
	out := RouteConfigSummary{Name: rc.Name, VirtualHosts: []VirtualHostSummary{}}
	for _, vh := range rc.VirtualHosts {
		out.VirtualHosts = append(out.VirtualHosts, VirtualHostSummary{Name: vh.Name, Domains: vh.Domains, Clusters: routeClusters(vh)})
	}
	return out
}
