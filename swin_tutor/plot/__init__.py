"""Pictures of the tensors: every plotting helper of the notebooks and the kernel-free frame stepper."""
