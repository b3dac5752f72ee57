/** The catalogue seeded on first start (docs/architecture.md, HTTP shapes: at least 10 SKUs). Prices in integer cents. */
export const SEED_CATALOGUE: ReadonlyArray<{ sku: string; name: string; unitPrice: number; available: number }> = [
  { sku: 'SKU-001', name: 'Espresso beans, 1 kg', unitPrice: 2450, available: 100 },
  { sku: 'SKU-002', name: 'Pour-over kettle', unitPrice: 4999, available: 40 },
  { sku: 'SKU-003', name: 'Ceramic dripper', unitPrice: 2200, available: 60 },
  { sku: 'SKU-004', name: 'Paper filters (100)', unitPrice: 650, available: 500 },
  { sku: 'SKU-005', name: 'Burr grinder', unitPrice: 12900, available: 25 },
  { sku: 'SKU-006', name: 'Digital scale', unitPrice: 3500, available: 50 },
  { sku: 'SKU-007', name: 'Milk frother', unitPrice: 2899, available: 35 },
  { sku: 'SKU-008', name: 'Travel mug', unitPrice: 1800, available: 120 },
  { sku: 'SKU-009', name: 'Cold brew jar', unitPrice: 2700, available: 45 },
  { sku: 'SKU-010', name: 'Tasting cups (set of 4)', unitPrice: 1600, available: 80 },
  { sku: 'SKU-011', name: 'Barista apron', unitPrice: 3200, available: 30 },
  { sku: 'SKU-012', name: 'Limited roast, 250 g', unitPrice: 1950, available: 5 },
];
