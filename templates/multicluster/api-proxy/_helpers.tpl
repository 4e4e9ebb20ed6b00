{{- /* The api-proxy's public host: publicDomainTemplate with %s -> istio-api-proxy (the reference's). */ -}}
{{- define "istio.multicluster.apiProxyHost" -}}
{{- $template := required "global.modules.publicDomainTemplate is required: the api-proxy is published on istio-api-proxy.<public domain>" (dig "modules" "publicDomainTemplate" "" .Values.global) -}}
{{- if not (contains "%s" $template) -}}
{{- fail (printf "global.modules.publicDomainTemplate %q must contain %%s" $template) -}}
{{- end -}}
{{- $template | replace "%s" "istio-api-proxy" -}}
{{- end }}

{{- define "istio.multicluster.apiProxyTlsSecretName" -}}
{{- if eq (include "istio.federation.httpsMode" .) "CustomCertificate" -}}
{{- dig "modules" "https" "customCertificate" "secretName" "api-proxy-ingress-tls" .Values.global -}}
{{- else -}}
api-proxy-ingress-tls
{{- end -}}
{{- end }}
