"""The demo universe `tradegraph seed` loads: B3 stocks and REITs, US stocks and ETFs, crypto."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from decimal import Decimal

from tradegraph.documents import AssetClass

B3 = ("B3", "BRL", "America/Sao_Paulo", time(17, 0))
US = ("NASDAQ", "USD", "America/New_York", time(16, 0))
NYSE = ("NYSE", "USD", "America/New_York", time(16, 0))
CRYPTO = ("BINANCE", "USDT", "UTC", time(0, 0))


@dataclass(frozen=True)
class Listing:
    symbol: str
    name: str
    asset_class: AssetClass
    venue: tuple[str, str, str, time]
    reference_price: Decimal  # where simulated prices start
    tick_size: Decimal = Decimal("0.01")
    lot_size: Decimal = Decimal(1)


UNIVERSE = [
    Listing("PETR4", "Petrobras PN", AssetClass.STOCK, B3, Decimal("37.50")),
    Listing("VALE3", "Vale ON", AssetClass.STOCK, B3, Decimal("61.20")),
    Listing("ITUB4", "Itaú Unibanco PN", AssetClass.STOCK, B3, Decimal("36.80")),
    Listing("BBDC4", "Bradesco PN", AssetClass.STOCK, B3, Decimal("15.40")),
    Listing("WEGE3", "WEG ON", AssetClass.STOCK, B3, Decimal("44.90")),
    Listing("ABEV3", "Ambev ON", AssetClass.STOCK, B3, Decimal("13.10")),
    Listing("BOVA11", "iShares Ibovespa", AssetClass.ETF, B3, Decimal("125.30")),
    Listing("HGLG11", "CSHG Logística FII", AssetClass.REIT, B3, Decimal("158.70")),
    Listing("KNRI11", "Kinea Renda Imobiliária FII", AssetClass.REIT, B3, Decimal("142.10")),
    Listing("MXRF11", "Maxi Renda FII", AssetClass.REIT, B3, Decimal("9.45")),
    Listing("AAPL", "Apple Inc.", AssetClass.STOCK, US, Decimal("228.50")),
    Listing("MSFT", "Microsoft Corp.", AssetClass.STOCK, US, Decimal("415.20")),
    Listing("NVDA", "NVIDIA Corp.", AssetClass.STOCK, US, Decimal("135.40")),
    Listing("JPM", "JPMorgan Chase & Co.", AssetClass.STOCK, NYSE, Decimal("238.10")),
    Listing("SPY", "SPDR S&P 500 ETF", AssetClass.ETF, NYSE, Decimal("590.30")),
    Listing("QQQ", "Invesco QQQ Trust", AssetClass.ETF, US, Decimal("505.60")),
    Listing("O", "Realty Income", AssetClass.REIT, NYSE, Decimal("57.20")),
    Listing(
        "BTCUSDT",
        "Bitcoin / Tether",
        AssetClass.CRYPTO,
        CRYPTO,
        Decimal("97000.00"),
        Decimal("0.01"),
        Decimal("0.00001"),
    ),
    Listing(
        "ETHUSDT",
        "Ether / Tether",
        AssetClass.CRYPTO,
        CRYPTO,
        Decimal("3400.00"),
        Decimal("0.01"),
        Decimal("0.0001"),
    ),
]
REFERENCE_PRICES = {listing.symbol: listing.reference_price for listing in UNIVERSE}
