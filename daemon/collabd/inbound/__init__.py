"""Raw bytes → typed events: parsing, charsets, forms, quote stripping, intents, iMIP."""
