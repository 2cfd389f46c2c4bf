// Package cloudwatch mirrors the fields of the ACK CloudWatch controller's MetricAlarm
// (cloudwatch.services.k8s.aws/v1alpha1, cloudwatch-controller v1.8.1) that the operator writes
// and reads. The envtest suites check every object against the upstream CRD.
//
// +kubebuilder:object:generate=true
// +groupName=cloudwatch.services.k8s.aws
package cloudwatch

import (
	ackv1alpha1 "github.com/aws-controllers-k8s/runtime/apis/core/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	GroupVersion  = schema.GroupVersion{Group: "cloudwatch.services.k8s.aws", Version: "v1alpha1"}
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}
	AddToScheme   = SchemeBuilder.AddToScheme
)

// Dimension narrows a metric to one resource.
type Dimension struct {
	Name  *string `json:"name,omitempty"`
	Value *string `json:"value,omitempty"`
}

// Metric is a metric by namespace, name and dimensions.
type Metric struct {
	Dimensions []*Dimension `json:"dimensions,omitempty"`
	MetricName *string      `json:"metricName,omitempty"`
	Namespace  *string      `json:"namespace,omitempty"`
}

// MetricStat is a metric's statistic over a period.
type MetricStat struct {
	Metric *Metric `json:"metric,omitempty"`
	Period *int64  `json:"period,omitempty"`
	Stat   *string `json:"stat,omitempty"`
	Unit   *string `json:"unit,omitempty"`
}

// MetricDataQuery is one series of a metric-math alarm: a metric, or an expression over others.
type MetricDataQuery struct {
	Expression *string     `json:"expression,omitempty"`
	ID         *string     `json:"id,omitempty"`
	Label      *string     `json:"label,omitempty"`
	MetricStat *MetricStat `json:"metricStat,omitempty"`
	ReturnData *bool       `json:"returnData,omitempty"`
}

// Tag is a CloudWatch resource tag.
type Tag struct {
	Key   *string `json:"key,omitempty"`
	Value *string `json:"value,omitempty"`
}

// MetricAlarmSpec is the part of the upstream spec the operator sets.
type MetricAlarmSpec struct {
	ActionsEnabled     *bool              `json:"actionsEnabled,omitempty"`
	AlarmActions       []*string          `json:"alarmActions,omitempty"`
	AlarmDescription   *string            `json:"alarmDescription,omitempty"`
	ComparisonOperator *string            `json:"comparisonOperator,omitempty"`
	DatapointsToAlarm  *int64             `json:"datapointsToAlarm,omitempty"`
	Dimensions         []*Dimension       `json:"dimensions,omitempty"`
	EvaluationPeriods  *int64             `json:"evaluationPeriods,omitempty"`
	ExtendedStatistic  *string            `json:"extendedStatistic,omitempty"`
	MetricName         *string            `json:"metricName,omitempty"`
	Metrics            []*MetricDataQuery `json:"metrics,omitempty"`
	Name               *string            `json:"name"`
	Namespace          *string            `json:"namespace,omitempty"`
	OKActions          []*string          `json:"oKActions,omitempty"`
	Period             *int64             `json:"period,omitempty"`
	Statistic          *string            `json:"statistic,omitempty"`
	Tags               []*Tag             `json:"tags,omitempty"`
	Threshold          *float64           `json:"threshold,omitempty"`
	TreatMissingData   *string            `json:"treatMissingData,omitempty"`
}

// MetricAlarmStatus is the part of the upstream status the operator reads.
type MetricAlarmStatus struct {
	Conditions []*ackv1alpha1.Condition `json:"conditions,omitempty"`
}

// MetricAlarm is a CloudWatch metric alarm managed by the ACK CloudWatch controller.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
type MetricAlarm struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              MetricAlarmSpec   `json:"spec,omitempty"`
	Status            MetricAlarmStatus `json:"status,omitempty"`
}

// MetricAlarmList is a list of MetricAlarms.
//
// +kubebuilder:object:root=true
type MetricAlarmList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MetricAlarm `json:"items"`
}

func init() {
	SchemeBuilder.Register(&MetricAlarm{}, &MetricAlarmList{})
}
