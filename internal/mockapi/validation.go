package mockapi

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The checks below are the part of the real validation that clients commonly trip over; they
// produce the same 422 field errors a real kube-apiserver does.

const maxDataBytes = 1 * 1024 * 1024

func validateDataKeys(keys []string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range keys {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(fld.Key(k), k, msg))
		}
	}
	return errs
}

// keysAndSize returns a data map's keys and the bytes of its values.
func keysAndSize[V string | []byte](m map[string]V) ([]string, int) {
	keys, size := make([]string, 0, len(m)), 0
	for k, v := range m {
		keys = append(keys, k)
		size += len(v)
	}
	return keys, size
}

func validateConfigMap(obj runtime.Object) field.ErrorList {
	cm := obj.(*corev1.ConfigMap)
	keys, size := keysAndSize(cm.Data)
	binKeys, binSize := keysAndSize(cm.BinaryData)
	errs := validateDataKeys(keys, field.NewPath("data"))
	errs = append(errs, validateDataKeys(binKeys, field.NewPath("binaryData"))...)
	for _, k := range binKeys {
		if _, dup := cm.Data[k]; dup {
			errs = append(errs, field.Invalid(field.NewPath("binaryData").Key(k), k, "duplicate of key present in data"))
		}
	}
	if size+binSize > maxDataBytes {
		errs = append(errs, field.TooLong(field.NewPath(""), "", maxDataBytes))
	}
	return errs
}

func validateSecret(obj runtime.Object) field.ErrorList {
	s := obj.(*corev1.Secret)
	keys, size := keysAndSize(s.Data)
	errs := validateDataKeys(keys, field.NewPath("data"))
	if size > maxDataBytes {
		errs = append(errs, field.TooLong(field.NewPath("data"), "", maxDataBytes))
	}
	if s.Type == corev1.SecretTypeServiceAccountToken && s.Annotations[corev1.ServiceAccountNameKey] == "" {
		errs = append(errs, field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
	}
	return errs
}

func validatePodSpec(spec *corev1.PodSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(spec.Containers) == 0 {
		return append(errs, field.Required(fld.Child("containers"), ""))
	}
	seen := map[string]bool{}
	for i, c := range spec.Containers {
		cf := fld.Child("containers").Index(i)
		switch {
		case c.Name == "":
			errs = append(errs, field.Required(cf.Child("name"), ""))
		case seen[c.Name]:
			errs = append(errs, field.Duplicate(cf.Child("name"), c.Name))
		default:
			for _, msg := range validation.IsDNS1123Label(c.Name) {
				errs = append(errs, field.Invalid(cf.Child("name"), c.Name, msg))
			}
		}
		seen[c.Name] = true
		if c.Image == "" {
			errs = append(errs, field.Required(cf.Child("image"), ""))
		}
	}
	return errs
}

func validatePod(obj runtime.Object) field.ErrorList {
	return validatePodSpec(&obj.(*corev1.Pod).Spec, field.NewPath("spec"))
}

func validateDeployment(obj runtime.Object) field.ErrorList {
	d := obj.(*appsv1.Deployment)
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if d.Spec.Selector == nil {
		errs = append(errs, field.Required(spec.Child("selector"), ""))
	} else {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(spec.Child("selector"), d.Spec.Selector, err.Error()))
		case sel.Empty():
			errs = append(errs, field.Invalid(spec.Child("selector"), d.Spec.Selector, "empty selector is invalid for deployment"))
		case !sel.Matches(labels.Set(d.Spec.Template.Labels)):
			errs = append(errs, field.Invalid(spec.Child("template", "metadata", "labels"), d.Spec.Template.Labels,
				"`selector` does not match template `labels`"))
		}
	}
	if d.Spec.Replicas != nil && *d.Spec.Replicas < 0 {
		errs = append(errs, field.Invalid(spec.Child("replicas"), *d.Spec.Replicas, "must be greater than or equal to 0"))
	}
	return append(errs, validatePodSpec(&d.Spec.Template.Spec, spec.Child("template", "spec"))...)
}
