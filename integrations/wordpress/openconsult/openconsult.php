<?php
/**
 * Plugin Name:       OpenConsult widgets
 * Plugin URI:        https://openconsult.example/
 * Description:       Embeds your organisation's OpenConsult walk-in and booking widgets with the shortcode [openconsult widget="walk-in:KEY"] or [openconsult widget="booking:KEY"].
 * Version:           1.0.0
 * Requires at least: 6.3
 * Requires PHP:      7.4
 * Author:            OpenConsult
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       openconsult
 * Domain Path:       /languages
 *
 * @package OpenConsult
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit; // Loaded by WordPress only.
}

define( 'OPENCONSULT_VERSION', '1.0.0' );
define( 'OPENCONSULT_OPTION', 'openconsult_address' );

require_once __DIR__ . '/includes/widget-address.php';
require_once __DIR__ . '/includes/shortcode.php';
require_once __DIR__ . '/includes/settings.php';

add_action(
	'init',
	static function () {
		load_plugin_textdomain( 'openconsult', false, dirname( plugin_basename( __FILE__ ) ) . '/languages' );
	}
);
add_shortcode( 'openconsult', 'openconsult_shortcode' );

if ( is_admin() ) {
	add_action( 'admin_menu', 'openconsult_add_settings_page' );
	add_action( 'admin_init', 'openconsult_register_settings' );
	add_action( 'admin_notices', 'openconsult_missing_address_notice' );
	add_filter( 'plugin_action_links_' . plugin_basename( __FILE__ ), 'openconsult_settings_link' );
}
