{{/* Labels on every object of the release. */}}
{{- define "meshcanary.labels" -}}
app: meshcanary-controller
app.kubernetes.io/name: meshcanary
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The controller Service's host, as the filters reach it. */}}
{{- define "meshcanary.controllerHost" -}}
meshcanary-controller.{{ .Release.Namespace }}.svc.cluster.local
{{- end -}}
