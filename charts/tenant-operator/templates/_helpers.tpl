{{- define "tenant-operator.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tenant-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tenant-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "tenant-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: tenant-operator
{{- end -}}

{{- define "tenant-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tenant-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tenant-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tenant-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
The --jurisdictions flag from disasterRecovery.jurisdictions: "eu=eu-west-1,eu-central-1;us=...".
*/}}
{{- define "tenant-operator.jurisdictions" -}}
{{- $parts := list -}}
{{- range $name, $regions := .Values.disasterRecovery.jurisdictions -}}
{{- $parts = append $parts (printf "%s=%s" $name (join "," $regions)) -}}
{{- end -}}
{{- join ";" $parts -}}
{{- end -}}

{{/*
Selector labels of a console component's pods (console, console-admin): their own name, so that
no selector of the operator's (its Deployment, Service, PodDisruptionBudget) matches them.
*/}}
{{- define "tenant-operator.consoleSelectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "tenant-operator.name" $root }}-{{ index . 1 }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}
