{{- /*
Helpers of the multicluster mesh: the mesh ID, multicluster trust, meshNetworks and the
remote kubeconfig istiod reads a peer's API with. Values come from the multicluster merge
hook (hooks/multicluster/merge-multiclusters.ts), validated by openapi/values.yaml.
*/ -}}

{{- /* One mesh for every member: Deckhouse's meshID (values.global.meshID of its istiod). */ -}}
{{- define "istio.multicluster.meshId" -}}d8-istio-mesh{{- end }}

{{- /*
Our Istio cluster ID, checked: it is meshNetworks fromRegistry of our own network, and
istiod refuses the WHOLE meshNetworks when one fromRegistry is not a DNS-1123 label
(pkg/config/validation/agent validateNetwork). Only a cluster domain longer than ~50
characters can break it.
*/ -}}
{{- define "istio.multicluster.clusterId" -}}
{{- $id := include "istio.federation.clusterId" . -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$" $id) -}}
{{- fail (printf "multicluster: the Istio cluster ID %q (cluster domain with dashes and adler32 of the cluster UUID) is not a DNS-1123 label of at most 63 characters; istiod would refuse meshNetworks" $id) -}}
{{- end -}}
{{- $id -}}
{{- end }}

{{- /*
Our network name, checked: peers read it from multicluster.json as a label value (pods carry
it as topology.istio.io/network) and refuse one longer than 63 characters
(lib/multicluster/wire.ts), so such a cluster would never join any peer. `network-` makes it 8
characters longer than the cluster ID: a cluster domain of about 45 characters or more.
*/ -}}
{{- define "istio.multicluster.network" -}}
{{- $network := printf "network-%s" (include "istio.multicluster.clusterId" .) -}}
{{- if gt (len $network) 63 -}}
{{- fail (printf "multicluster: the network name %q is longer than 63 characters (a label value); peers would refuse it" $network) -}}
{{- end -}}
{{- $network -}}
{{- end }}

{{- /*
Root CAs of trusted multicluster peers as MeshConfig caCertificates entries WITHOUT
trustDomains: members share the cluster domain (the trust domain), so a restriction to it
would mean nothing; the peer's root is trusted for any trust domain, as in the reference.
*/ -}}
{{- define "istio.multicluster.caCertificates" -}}
{{- $entries := list -}}
{{- if .Values.istio.multicluster.enabled -}}
{{- range .Values.istio.internal.multicluster.trustedPeers -}}
{{- $entries = append $entries (dict "pem" .rootCA) -}}
{{- end -}}
{{- end -}}
{{- toJson $entries -}}
{{- end }}

{{- /*
istio.mesh.v1alpha1.MeshNetworks. Our network holds the endpoints of our own registry
(our cluster ID) and no gateway: our sidecars reach our pods directly (the proto marks
gateways required, so the list is there, empty). Each usable peer with
enableIngressGateway has its network, holding the endpoints of its registry (the
IstioMulticluster name, the data key of its remote Secret), reached through its gateways.
A flat-network peer (enableIngressGateway: false) gets no entry: its endpoints have no
network, or one without gateways, and istiod's sidecar EDS sends both as they are (pod IPs,
reached directly: pilot/pkg/xds/endpoints/ep_filters.go EndpointsByNetworkFilter keeps an
endpoint whose network has no gateway), whatever gateways other networks have.
*/ -}}
{{- define "istio.multicluster.meshNetworks" -}}
{{- $networks := dict -}}
{{- $_ := set $networks (include "istio.multicluster.network" .) (dict "endpoints" (list (dict "fromRegistry" (include "istio.multicluster.clusterId" .))) "gateways" (list)) -}}
{{- range .Values.istio.internal.multiclusters -}}
{{- if .enableIngressGateway -}}
{{- $gateways := list -}}
{{- range .ingressGateways -}}
{{- $gateways = append $gateways (dict "address" .address "port" .port) -}}
{{- end -}}
{{- $_ := set $networks .networkName (dict "endpoints" (list (dict "fromRegistry" .name)) "gateways" $gateways) -}}
{{- end -}}
{{- end -}}
{{- toJson (dict "networks" $networks) -}}
{{- end }}

{{- /*
The kubeconfig of one `istio.internal.multiclusters` item: cluster, context and user all
named after the IstioMulticluster (its cluster ID in our istiod), server https://<apiHost>,
the `scope: api` JWT inline (istiod's sanitizer refuses tokenFile, exec, client-key files and
auth providers but oidc), and EXACTLY ONE of certificate-authority-data / insecure-skip-tls-verify,
or neither (system roots): client-go refuses a CA together with the insecure flag.
*/ -}}
{{- define "istio.multicluster.kubeconfig" -}}
{{- $cluster := dict "server" (printf "https://%s" .apiHost) -}}
{{- if .metadataCA -}}
{{- $_ := set $cluster "certificate-authority-data" (b64enc .metadataCA) -}}
{{- else if .insecureSkipVerify -}}
{{- $_ := set $cluster "insecure-skip-tls-verify" true -}}
{{- end -}}
{{- toYaml (dict
  "apiVersion" "v1"
  "kind" "Config"
  "clusters" (list (dict "name" .name "cluster" $cluster))
  "contexts" (list (dict "name" .name "context" (dict "cluster" .name "user" .name)))
  "current-context" .name
  "preferences" (dict)
  "users" (list (dict "name" .name "user" (dict "token" .apiJWT)))
) -}}
{{- end }}
