"""Config for the faithsweep tiny masked-diffusion LM in Hugging Face form (trust_remote_code)."""
from transformers import PretrainedConfig


class TinyDiffConfig(PretrainedConfig):
    model_type = "tinydiff"

    def __init__(self, vocab_size=18, max_seq_len=50, d_model=128, n_layers=6, n_heads=4, d_ff=512,
                 mask_token_id=1, pad_token_id=0, eos_token_id=2, **kwargs):
        self.vocab_size = vocab_size
        self.max_seq_len = max_seq_len
        self.d_model = d_model
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.d_ff = d_ff
        self.mask_token_id = mask_token_id
        super().__init__(pad_token_id=pad_token_id, eos_token_id=eos_token_id, **kwargs)
