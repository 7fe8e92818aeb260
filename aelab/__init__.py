"""aelab: an autoencoder latent-space lab.

The library behind the Streamlit app and the ``aelab`` command: datasets (:mod:`aelab.data`), the
autoencoder family (:mod:`aelab.models`), training (:mod:`aelab.train`), checkpoints
(:mod:`aelab.checkpoint`), work in the latent plane (:mod:`aelab.latent`), and baselines and metrics
(:mod:`aelab.baselines`). It never imports Streamlit; the pages in :mod:`aelab.ui` do.
"""

__version__ = "0.1.0"
