{{- /*
Helpers of the multicluster mode and of what federation and multicluster share (the
metadata exporter, the ingress gateway). Conditions return "true" or "" (false), for
`if include ...`.
*/ -}}

{{- /*
The api host published in multicluster.json: where multicluster peers reach this cluster's
api-proxy (https://<apiHost>). The setting multicluster.apiHost when set (a host or
host:port, for peers that cannot use the public domain), else istio-api-proxy.<public
domain>, the host of the api-proxy's Ingress (api-proxy/_helpers.tpl).
*/ -}}
{{- define "istio.multicluster.apiHost" -}}
{{- .Values.istio.multicluster.apiHost | default (include "istio.multicluster.apiProxyHost" .) -}}
{{- end }}

{{- /*
Federation or multicluster: the metadata exporter (and its documents) serves both
relationships, and the AUTO_PASSTHROUGH Gateway is there with either.
*/ -}}
{{- define "istio.alliance.enabled" -}}
{{- if or .Values.istio.federation.enabled .Values.istio.multicluster.enabled -}}true{{- end -}}
{{- end }}

{{- /* The exporter's --private-documents: the enabled relationships. */ -}}
{{- define "istio.alliance.privateDocuments" -}}
{{- $documents := list -}}
{{- if .Values.istio.federation.enabled }}{{ $documents = append $documents "federation" }}{{ end -}}
{{- if .Values.istio.multicluster.enabled }}{{ $documents = append $documents "multicluster" }}{{ end -}}
{{- join "," $documents -}}
{{- end }}

{{- /*
The east-west ingress gateway: always with federation; with multicluster only while some
IstioMulticluster wants it (istio.internal.multiclustersNeedIngressGateway, set as soon as one
has enableIngressGateway, even before its metadata is fetched: reference PR #640).
*/ -}}
{{- define "istio.alliance.ingressGatewayEnabled" -}}
{{- if or .Values.istio.federation.enabled (and .Values.istio.multicluster.enabled .Values.istio.internal.multiclustersNeedIngressGateway) -}}true{{- end -}}
{{- end }}
