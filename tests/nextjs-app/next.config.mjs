/** @type {import('next').NextConfig} */
// Deliberately empty: NextChat consumes the package with no config changes.
const nextConfig = {};
export default nextConfig;
