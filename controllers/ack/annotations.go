package ack

// The ACK runtime's annotations, the same on every kind.
const (
	// AnnotationDeletionPolicy "retain" leaves the AWS resource in place when its custom
	// resource is deleted.
	AnnotationDeletionPolicy = "services.k8s.aws/deletion-policy"
	// AnnotationAdoptionPolicy "adopt-or-create" takes over the AWS resource named by
	// AnnotationAdoptionFields when it exists (and makes it what the spec says), and creates it
	// otherwise.
	AnnotationAdoptionPolicy = "services.k8s.aws/adoption-policy"
	// AnnotationAdoptionFields is the JSON object of the fields that find the resource to adopt.
	AnnotationAdoptionFields = "services.k8s.aws/adoption-fields"
	// AnnotationAdopted is what the runtime sets on a resource it adopted.
	AnnotationAdopted = "services.k8s.aws/adopted"
	// AnnotationRegion makes the resource in that region rather than the controller's own.
	AnnotationRegion = "services.k8s.aws/region"
)
