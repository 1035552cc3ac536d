{{/* The release's full name: the release name, or "<release>-perfbot" when it does not contain perfbot. */}}
{{- define "perfbot.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "perfbot.serviceAccountName" -}}
{{- default (include "perfbot.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "perfbot.secretName" -}}
{{- default (include "perfbot.fullname" .) .Values.secret.name -}}
{{- end -}}

{{- define "perfbot.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "perfbot.labels" -}}
{{ include "perfbot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
