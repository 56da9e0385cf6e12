
export const ACTIVATION: Record<string, { label: string; help: string }> = {
  automatic: { label: 'Automatic', help: 'activated as soon as the buyer arrives from the marketplace' },
  buyer_confirms: { label: 'Buyer confirms', help: 'the buyer presses Activate on the welcome page' },
  seller_approves: { label: 'Seller approves', help: 'an admin or operator activates it in this portal' },
};

export const IDENTITY: Record<string, string> = {
  legacy: 'CustomerIdentifier + ProductCode (products listed before June 2026)',
  concurrent_agreements: 'CustomerAWSAccountId + LicenseArn (concurrent agreements, from June 2026)',
};
