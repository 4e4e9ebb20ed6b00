{{- /*
Shared helpers of the federation templates. Values are validated against openapi/ (with
defaults applied) before Helm runs, so templates only check what the schema cannot:
globals and cross-field rules.
*/ -}}

{{- define "istio.federation.namespace" -}}d8-istio{{- end }}

{{- define "istio.federation.clusterDomain" -}}
{{- required "global.discovery.clusterDomain is required: it is this cluster's trust domain" (dig "discovery" "clusterDomain" "" .Values.global) -}}
{{- end }}

{{- define "istio.federation.clusterUUID" -}}
{{- required "global.discovery.clusterUUID is required: federated clusters address this cluster by it" (dig "discovery" "clusterUUID" "" .Values.global) -}}
{{- end }}

{{- /* Istio cluster id: unique per cluster even if two clusters share a domain. */ -}}
{{- define "istio.federation.clusterId" -}}
{{- printf "%s-%s" (include "istio.federation.clusterDomain" . | replace "." "-") (include "istio.federation.clusterUUID" . | adler32sum) -}}
{{- end }}

{{- define "istio.federation.network" -}}
{{- printf "network-%s" (include "istio.federation.clusterId" .) -}}
{{- end }}

{{- define "istio.federation.labels" -}}
module: istio
heritage: deckhouse
{{- end }}

{{- /* The metadata host: publicDomainTemplate with %s replaced, as for every Deckhouse web UI. */ -}}
{{- define "istio.federation.metadataHost" -}}
{{- $template := required "global.modules.publicDomainTemplate is required: the metadata exporter is published on istio-metadata.<public domain>" (dig "modules" "publicDomainTemplate" "" .Values.global) -}}
{{- if not (contains "%s" $template) -}}
{{- fail (printf "global.modules.publicDomainTemplate %q must contain %%s" $template) -}}
{{- end -}}
{{- $template | replace "%s" "istio-metadata" -}}
{{- end }}

{{- define "istio.federation.httpsMode" -}}
{{- dig "modules" "https" "mode" "CertManager" .Values.global -}}
{{- end }}

{{- /*
Root CAs of the trusted federation peers (none while federation is disabled) as MeshConfig caCertificates entries
(istio.mesh.v1alpha1.MeshConfig.CertificateData: pem + trustDomains). Rendered into the
shared mesh config ConfigMap; a control-plane template may also include it directly in
its own meshConfig.
*/ -}}
{{- define "istio.federation.caCertificates" -}}
{{- $entries := list -}}
{{- if .Values.istio.federation.enabled -}}
{{- range .Values.istio.internal.federation.trustedPeers -}}
{{- $entries = append $entries (dict "pem" .rootCA "trustDomains" (list .trustDomain)) -}}
{{- end -}}
{{- end -}}
{{- toJson $entries -}}
{{- end }}

{{- /*
TLS Secret of the metadata Ingress: cert-manager issues istio-metadata-tls; with
CustomCertificate the platform provides the Secret, named in global values.
*/ -}}
{{- define "istio.federation.metadataTlsSecretName" -}}
{{- if eq (include "istio.federation.httpsMode" .) "CustomCertificate" -}}
{{- dig "modules" "https" "customCertificate" "secretName" "istio-metadata-tls" .Values.global -}}
{{- else -}}
istio-metadata-tls
{{- end -}}
{{- end }}

{{- /* `, federation.istio.deckhouse.io/federation: "<name>"` for a flow-style labels map when the
list holds exactly one IstioFederation name that is a valid label value; else nothing. */}}
{{- define "istio.federation.sourceLabel" -}}
{{- if eq (len .) 1 -}}
{{- $name := first . -}}
{{- if and (le (len $name) 63) (regexMatch "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$" $name) -}}
, federation.istio.deckhouse.io/federation: {{ $name | quote }}
{{- end -}}
{{- end -}}
{{- end }}
