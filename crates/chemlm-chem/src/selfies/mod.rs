//! SELFIES 2.x encoder and decoder (placeholder module; being implemented).
